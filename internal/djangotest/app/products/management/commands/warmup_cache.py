"""Fills the cache the way the API would: each entry is built by the same
view a GET reaches, after its key is deleted, so it is fresh and has the
full TTL."""
import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from rest_framework.test import APIRequestFactory

from products.models import Category
from products.views import (
    CategoryViewSet,
    ProductColorViewSet,
    ProductViewSet,
    categories_with_product_counts,
    generate_cache_key,
)

TOP_CATEGORIES = 5
POPULAR_PAGE_SIZE = 20


class Command(BaseCommand):
    help = "Warm up the catalog cache: categories, colors, top sellers, new arrivals, popular products, filters and lists."

    def add_arguments(self, parser):
        parser.add_argument("--verbose", action="store_true", help="print every entry warmed")

    def handle(self, *args, **opts):
        site = urlsplit(settings.CATALOG["SITE_URL"])
        factory = APIRequestFactory(HTTP_HOST=site.netloc, secure=site.scheme == "https")
        popular = "-popularity" if "popularity" in settings.CATALOG["ORDERING_FIELDS"] else "-sales_count"
        main_categories = Category.objects.filter(parent__isnull=True).order_by("id")
        top_categories = categories_with_product_counts().order_by("-num_products", "id")[:TOP_CATEGORIES]

        plan = [
            ("all categories", CategoryViewSet, "list", "/api/categories/", {}, "categories:all"),
            ("all product colors", ProductColorViewSet, "list", "/api/colors/", {}, "product_colors:all"),
            ("top 10 sellers", ProductViewSet, "top_sellers", "/api/products/top_sellers/", {}, "products:top_sellers"),
            ("top 10 new arrivals", ProductViewSet, "new_arrivals", "/api/products/new_arrivals/", {}, "products:new_arrivals"),
            (f"top {POPULAR_PAGE_SIZE} popular products", ProductViewSet, "list", "/api/products/",
             {"ordering": popular, "page_size": POPULAR_PAGE_SIZE}, None),
        ]
        for c in main_categories:
            plan.append((f"filters for {c.name}", ProductViewSet, "filters", "/api/products/filters/", {"category": c.id}, None))
        for c in top_categories:
            plan.append((f"products in {c.name}", ProductViewSet, "list", "/api/products/", {"category": c.id}, None))

        started = time.monotonic()
        for label, viewset, action, path, params, key in plan:
            if key is None:
                prefix = "products:filters" if action == "filters" else "products:list"
                key = generate_cache_key(prefix, params)
            cache.delete(key)
            t0 = time.monotonic()
            response = viewset.as_view({"get": action})(factory.get(path, params))
            if response.status_code != 200:
                raise CommandError(f"{label}: {path}?{urlencode(params)} answered {response.status_code}: {response.data}")
            if opts["verbose"]:
                url = path + ("?" + urlencode(params) if params else "")
                self.stdout.write(f"  cached {label}: {key} ({url}, {(time.monotonic() - t0) * 1000:.0f} ms)")
        self.stdout.write(self.style.SUCCESS(
            f"Warmed {len(plan)} cache entries in {(time.monotonic() - started) * 1000:.0f} ms"
        ))
