from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("categories", views.CategoryViewSet, basename="category")
router.register("colors", views.ProductColorViewSet, basename="color")
router.register("variants", views.ProductVariantViewSet, basename="variant")
router.register("products", views.ProductViewSet, basename="product")

urlpatterns = router.urls
