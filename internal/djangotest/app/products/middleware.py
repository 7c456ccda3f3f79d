import time

from django.conf import settings
from django.db import connection


class CacheStatusMiddleware:
    """Adds X-Cache: HIT or MISS to the responses of the cached views
    (settings: CATALOG_CACHE_HEADER=1). Other responses get no header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = getattr(request, "catalog_cache_status", None)
        if status:
            response["X-Cache"] = status
        return response


class SimulatedDBLatencyMiddleware:
    """SIMULATION, not part of a real app: sleeps
    CATALOG_SIMULATED_DB_LATENCY_MS before each SQL query of a request, to
    imitate a database across a network (SQLite answers in the process, in
    microseconds). Installed only when that setting is above 0."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.delay = settings.SIMULATED_DB_LATENCY_MS / 1000

    def __call__(self, request):
        with connection.execute_wrapper(self.slow_query):
            return self.get_response(request)

    def slow_query(self, execute, sql, params, many, context):
        time.sleep(self.delay)
        return execute(sql, params, many, context)
