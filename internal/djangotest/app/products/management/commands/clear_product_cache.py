from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError

from products.views import invalidate_product_cache


class Command(BaseCommand):
    help = "Clear the catalog's cache entries."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="clear all caches (the whole cache database)")
        parser.add_argument("--products", action="store_true", help="clear product caches (product:*, products:*)")
        parser.add_argument("--categories", action="store_true", help="clear category caches (categories:*, category:*)")
        parser.add_argument("--colors", action="store_true", help="clear color caches (product_colors:*)")
        parser.add_argument("--product-id", type=int, help="clear one product's caches and the product listings")

    def handle(self, *args, **opts):
        if not (opts["all"] or opts["products"] or opts["categories"] or opts["colors"] or opts["product_id"] is not None):
            raise CommandError("nothing to clear: give --all, --products, --categories, --colors or --product-id N")

        if opts["all"]:
            # django-redis's clear() is FLUSHDB on the cache's database.
            cache.clear()
            self.stdout.write(self.style.SUCCESS("Cleared all caches"))
            return

        if opts["products"]:
            count = cache.delete_pattern("product:*") + cache.delete_pattern("products:*")
            self.stdout.write(self.style.SUCCESS(f"Cleared {count} product cache keys"))
        if opts["categories"]:
            count = cache.delete_pattern("categories:*") + cache.delete_pattern("category:*")
            self.stdout.write(self.style.SUCCESS(f"Cleared {count} category cache keys"))
        if opts["colors"]:
            count = cache.delete_pattern("product_colors:*")
            self.stdout.write(self.style.SUCCESS(f"Cleared {count} color cache keys"))
        if opts["product_id"] is not None:
            invalidate_product_cache(opts["product_id"])
            self.stdout.write(self.style.SUCCESS(f"Cleared the caches of product {opts['product_id']} and the product listings"))
