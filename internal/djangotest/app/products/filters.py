import django_filters
from django.db.models import Q

from .models import Product


class ProductFilter(django_filters.FilterSet):
    # A main category lists the products of its subcategories too.
    category = django_filters.NumberFilter(method="filter_category")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    color = django_filters.NumberFilter(field_name="variants__color", distinct=True)

    class Meta:
        model = Product
        fields = ["category", "color", "is_featured", "min_price", "max_price"]

    def filter_category(self, queryset, name, value):
        return queryset.filter(Q(category_id=value) | Q(category__parent_id=value))
