"""Cache invalidation on every model write, through the ORM or the API."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Category, Color, Product, ProductVariant
from .views import invalidate_category_cache, invalidate_color_cache, invalidate_product_cache


@receiver([post_save, post_delete], sender=Product)
def product_changed(sender, instance, **kwargs):
    invalidate_product_cache(instance.pk)


@receiver([post_save, post_delete], sender=ProductVariant)
def variant_changed(sender, instance, **kwargs):
    # Stock and variants show in the product's detail and listings.
    invalidate_product_cache(instance.product_id)


@receiver([post_save, post_delete], sender=Category)
def category_changed(sender, instance, **kwargs):
    invalidate_category_cache(instance.pk)


@receiver([post_save, post_delete], sender=Color)
def color_changed(sender, instance, **kwargs):
    invalidate_color_cache()
