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
