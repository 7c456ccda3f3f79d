from django.conf import settings
from rest_framework import serializers

from .models import Category, Color, Product, ProductVariant


class CategorySerializer(serializers.ModelSerializer):
    """A category as ModelSerializer names it, with the switches of
    settings.CATALOG applied: the parent's field name and product_count."""

    product_count = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "parent", "is_active", "product_count"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.CATALOG["PRODUCT_COUNT"]:
            self.fields.pop("product_count")
        if settings.CATALOG["PARENT_FIELD"] == "parent_id":
            parent = self.fields.pop("parent")
            parent.source = "parent"
            self.fields["parent_id"] = parent

    def get_product_count(self, obj):
        annotated = getattr(obj, "num_products", None)
        return annotated if annotated is not None else obj.products.filter(is_active=True).count()


class ColorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Color
        fields = ["id", "name", "hex_code"]


class ProductVariantSerializer(serializers.ModelSerializer):
    color_name = serializers.CharField(source="color.name", read_only=True)
    final_price = serializers.SerializerMethodField()

    class Meta:
        model = ProductVariant
        fields = ["id", "product", "color", "color_name", "size", "sku", "stock", "price_adjustment", "final_price"]

    def get_final_price(self, obj):
        return str(obj.product.price + obj.price_adjustment)


class ProductListSerializer(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id", "name", "slug", "category", "category_name", "price", "rating",
            "sales_count", "is_featured", "created_at",
        ]


class ProductSerializer(serializers.ModelSerializer):
    """What writes take and return."""

    class Meta:
        model = Product
        fields = [
            "id", "name", "slug", "description", "category", "price", "rating",
            "sales_count", "is_active", "is_featured", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ProductDetailSerializer(ProductSerializer):
    category = CategorySerializer(read_only=True)
    variants = ProductVariantSerializer(many=True, read_only=True)

    class Meta(ProductSerializer.Meta):
        fields = ProductSerializer.Meta.fields + ["variants"]


class StockChangeSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)
