"""The catalog API, cached in Redis through Django's cache (django-redis).

Each cached view reads its key with cache.get and, on a miss, builds the
response data and stores it with cache.set and the TTL below. Keys are
logical: django-redis stores "categories:all" as PREFIX:VERSION:categories:all.
"""
import hashlib
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Max, Min, Q
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from .filters import ProductFilter
from .models import Category, Color, Product, ProductVariant
from .serializers import (
    CategorySerializer,
    ColorSerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductSerializer,
    ProductVariantSerializer,
    StockChangeSerializer,
)

logger = logging.getLogger(__name__)

# Cache TTLs in seconds.
CATEGORY_TTL = 60 * 30
COLOR_TTL = 60 * 60
VARIANT_TTL = 60 * 15
PRODUCT_LIST_TTL = 60 * 10
PRODUCT_DETAIL_TTL = 60 * 15
RECOMMENDATIONS_TTL = 60 * 20
TOP_SELLERS_TTL = 60 * 30
NEW_ARRIVALS_TTL = 60 * 15
PERSONALIZED_TTL = 60 * 20
FILTERS_TTL = 60 * 30

# top_sellers and new_arrivals cache this many products and answer ?limit=
# (default 10) with the first ones.
RANKING_SIZE = 50
RANKING_DEFAULT_LIMIT = 10
RECOMMENDATIONS_SIZE = 8
PERSONALIZED_SIZE = 10


def generate_cache_key(prefix, params=None):
    """prefix + ":" + the md5 of the sorted query parameters, so the same
    query in another order shares a key. params is a QueryDict or a dict."""
    items = []
    if params:
        if hasattr(params, "lists"):
            for name, values in params.lists():
                items.extend((name, str(v)) for v in values)
        else:
            items = [(name, str(v)) for name, v in params.items()]
    digest = hashlib.md5(urlencode(sorted(items)).encode()).hexdigest()
    return f"{prefix}:{digest}"


def invalidate_product_cache(product_id=None):
    """Forget one product's keys (when given) and every product listing."""
    if product_id is not None:
        cache.delete(f"product:{product_id}")
        cache.delete_pattern(f"product:{product_id}:*")
    # Lists, filters, top sellers, new arrivals, personalized.
    cache.delete_pattern("products:*")


def invalidate_category_cache(category_id=None):
    keys = ["categories:all"]
    if category_id is not None:
        keys.append(f"category:{category_id}")
    cache.delete_many(keys)
    cache.delete_pattern("products:list:*")
    cache.delete_pattern("products:filters:*")


def invalidate_color_cache():
    cache.delete("product_colors:all")
    cache.delete_pattern("products:filters:*")


def cached(request, key, timeout, build):
    """cache.get(key), else build() and cache.set it. The outcome is noted on
    the request for the optional X-Cache middleware."""
    data = cache.get(key)
    if data is not None:
        outcome = "HIT"
    else:
        data = build()
        cache.set(key, data, timeout)
        outcome = "MISS"
    getattr(request, "_request", request).catalog_cache_status = outcome
    return data


def categories_with_product_counts():
    """Categories annotated with num_products, the serializer's
    product_count: a main category counts the products of its subcategories
    too, as ?category= on /api/products/ lists them."""
    return Category.objects.annotate(
        num_products=Count("products", filter=Q(products__is_active=True), distinct=True)
        + Count("children__products", filter=Q(children__products__is_active=True), distinct=True)
    )


def query_limit(request, default, maximum):
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationError({"limit": "A whole number is required."})
    if limit < 1:
        raise ValidationError({"limit": "Ensure this value is greater than or equal to 1."})
    return min(limit, maximum)


class CategoryViewSet(viewsets.ModelViewSet):
    serializer_class = CategorySerializer
    lookup_value_regex = r"[0-9]+"
    filter_backends = []

    def get_queryset(self):
        return categories_with_product_counts().order_by("id")

    def list(self, request, *args, **kwargs):
        data = cached(
            request, "categories:all", CATEGORY_TTL,
            lambda: self.get_serializer(self.get_queryset(), many=True).data,
        )
        if settings.CATALOG["CATEGORY_PAGINATION"] == "paginated":
            page = self.paginate_queryset(data)
            return self.get_paginated_response(page)
        return Response(data)

    def retrieve(self, request, *args, **kwargs):
        return Response(cached(
            request, f"category:{kwargs['pk']}", CATEGORY_TTL,
            lambda: self.get_serializer(self.get_object()).data,
        ))


class ProductColorViewSet(viewsets.ModelViewSet):
    queryset = Color.objects.all()
    serializer_class = ColorSerializer
    lookup_value_regex = r"[0-9]+"
    pagination_class = None
    filter_backends = []

    def list(self, request, *args, **kwargs):
        return Response(cached(
            request, "product_colors:all", COLOR_TTL,
            lambda: self.get_serializer(self.get_queryset(), many=True).data,
        ))


class ProductVariantViewSet(viewsets.ModelViewSet):
    queryset = ProductVariant.objects.select_related("product", "color")
    serializer_class = ProductVariantSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_fields = ["product", "color", "size"]
    ordering_fields = ["id", "stock"]
    search_fields = ["sku"]

    def list(self, request, *args, **kwargs):
        product = request.query_params.get("product", "")
        # Only the plain per-product list is cached: a page or another filter
        # would otherwise be answered from the wrong entry.
        if list(request.query_params) != ["product"] or not product.isdigit():
            return super().list(request, *args, **kwargs)
        return Response(cached(
            request, f"product:{product}:variants:list", VARIANT_TTL,
            lambda: super(ProductVariantViewSet, self).list(request, *args, **kwargs).data,
        ))

    def _change_stock(self, request, delta_sign):
        variant = self.get_object()
        body = StockChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quantity = body.validated_data["quantity"]
        rows = ProductVariant.objects.filter(pk=variant.pk)
        if delta_sign < 0:
            changed = rows.filter(stock__gte=quantity).update(stock=F("stock") - quantity)
            if not changed:
                return Response({"error": "Insufficient stock."}, status=status.HTTP_400_BAD_REQUEST)
        else:
            rows.update(stock=F("stock") + quantity)
        # update() sends no post_save, so invalidate here.
        invalidate_product_cache(variant.product_id)
        variant.refresh_from_db()
        return Response(self.get_serializer(variant).data)

    @action(detail=True, methods=["post"])
    def reduce_stock(self, request, pk=None):
        return self._change_stock(request, -1)

    @action(detail=True, methods=["post"])
    def increase_stock(self, request, pk=None):
        return self._change_stock(request, +1)


class ProductViewSet(viewsets.ModelViewSet):
    lookup_value_regex = r"[0-9]+"
    filterset_class = ProductFilter
    search_fields = ["name", "description"]

    @property
    def ordering_fields(self):
        return settings.CATALOG["ORDERING_FIELDS"]

    def get_queryset(self):
        queryset = Product.objects.filter(is_active=True).select_related("category")
        if "popularity" in settings.CATALOG["ORDERING_FIELDS"]:
            queryset = queryset.annotate(popularity=F("sales_count"))
        if self.action in ("retrieve", "variants"):
            queryset = queryset.prefetch_related("variants__color")
        return queryset.order_by("id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ProductDetailSerializer
        if self.action in ("create", "update", "partial_update", "destroy"):
            return ProductSerializer
        return ProductListSerializer

    def list(self, request, *args, **kwargs):
        key = generate_cache_key("products:list", request.query_params)
        return Response(cached(
            request, key, PRODUCT_LIST_TTL,
            lambda: super(ProductViewSet, self).list(request, *args, **kwargs).data,
        ))

    def retrieve(self, request, *args, **kwargs):
        return Response(cached(
            request, f"product:{kwargs['pk']}", PRODUCT_DETAIL_TTL,
            lambda: self.get_serializer(self.get_object()).data,
        ))

    @action(detail=True)
    def variants(self, request, pk=None):
        def build():
            product = self.get_object()
            return ProductVariantSerializer(product.variants.all(), many=True).data

        return Response(cached(request, f"product:{pk}:variants", VARIANT_TTL, build))

    @action(detail=True)
    def recommendations(self, request, pk=None):
        def build():
            product = self.get_object()
            related = (
                self.get_queryset()
                .filter(category_id=product.category_id)
                .exclude(pk=product.pk)
                .order_by("-sales_count", "id")[:RECOMMENDATIONS_SIZE]
            )
            return ProductListSerializer(related, many=True).data

        return Response(cached(request, f"product:{pk}:recommendations", RECOMMENDATIONS_TTL, build))

    def _ranking(self, request, key, timeout, order):
        limit = query_limit(request, RANKING_DEFAULT_LIMIT, RANKING_SIZE)
        data = cached(
            request, key, timeout,
            lambda: ProductListSerializer(
                self.get_queryset().order_by(*order)[:RANKING_SIZE], many=True
            ).data,
        )
        return Response(data[:limit])

    @action(detail=False)
    def top_sellers(self, request):
        return self._ranking(request, "products:top_sellers", TOP_SELLERS_TTL, ("-sales_count", "id"))

    @action(detail=False)
    def new_arrivals(self, request):
        return self._ranking(request, "products:new_arrivals", NEW_ARRIVALS_TTL, ("-created_at", "id"))

    @action(detail=False)
    def personalized(self, request):
        """Products from two leaf categories chosen by ?user_id= (featured
        products without one), best rated first."""

        def build():
            queryset = self.get_queryset()
            user_id = request.query_params.get("user_id")
            if user_id is None:
                queryset = queryset.filter(is_featured=True)
            else:
                if not user_id.isdigit():
                    raise ValidationError({"user_id": "A whole number is required."})
                leaves = list(
                    Category.objects.filter(parent__isnull=False).order_by("id").values_list("id", flat=True)
                )
                uid = int(user_id)
                liked = {leaves[uid % len(leaves)], leaves[(uid * 7 + 3) % len(leaves)]} if leaves else set()
                queryset = queryset.filter(category_id__in=liked)
            products = queryset.order_by("-rating", "-sales_count", "id")[:PERSONALIZED_SIZE]
            return ProductListSerializer(products, many=True).data

        key = generate_cache_key("products:personalized", request.query_params)
        return Response(cached(request, key, PERSONALIZED_TTL, build))

    @action(detail=False)
    def filters(self, request):
        """The filter options of a category (?category=) or the whole catalog:
        subcategories, colors, sizes and the price range."""

        def build():
            products = self.get_queryset()
            raw = request.query_params.get("category")
            if raw is None:
                categories = Category.objects.filter(parent__isnull=True)
            else:
                if not raw.isdigit():
                    raise ValidationError({"category": "A whole number is required."})
                category = Category.objects.filter(pk=int(raw)).first()
                if category is None:
                    raise ValidationError({"category": "No such category."})
                products = products.filter(Q(category=category) | Q(category__parent=category))
                categories = category.children.all()
            variants = ProductVariant.objects.filter(product__in=products)
            prices = products.aggregate(min=Min("price"), max=Max("price"))
            colors = Color.objects.filter(variants__in=variants).distinct().order_by("id")
            return {
                "categories": [
                    {"id": c.id, "name": c.name, "slug": c.slug} for c in categories.order_by("id")
                ],
                "colors": ColorSerializer(colors, many=True).data,
                "sizes": sorted(set(variants.values_list("size", flat=True))),
                "price_range": {
                    "min": str(prices["min"]) if prices["min"] is not None else None,
                    "max": str(prices["max"]) if prices["max"] is not None else None,
                },
            }

        key = generate_cache_key("products:filters", request.query_params)
        return Response(cached(request, key, FILTERS_TTL, build))
