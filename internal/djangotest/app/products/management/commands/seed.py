"""Creates a deterministic catalog: the same options give the same rows and
ids on every run. Bulk inserts send no signals, so seeding never touches the
cache."""
import json
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from products.models import Category, Color, Product, ProductVariant

CATEGORIES = {
    "Electronics": ["Phones", "Laptops", "Audio", "Cameras", "Wearables"],
    "Clothing": ["Men", "Women", "Kids", "Shoes", "Accessories"],
    "Home & Garden": ["Kitchen", "Furniture", "Lighting", "Garden", "Bedding"],
    "Sports": ["Running", "Cycling", "Fitness", "Outdoor"],
    "Books": ["Fiction", "Non-fiction", "Comics", "Children's books"],
}

COLORS = [
    ("Black", "#000000"), ("White", "#FFFFFF"), ("Red", "#E53935"), ("Blue", "#1E88E5"),
    ("Green", "#43A047"), ("Yellow", "#FDD835"), ("Orange", "#FB8C00"), ("Purple", "#8E24AA"),
    ("Pink", "#D81B60"), ("Grey", "#757575"), ("Brown", "#6D4C41"), ("Navy", "#1A237E"),
]

ADJECTIVES = ["Classic", "Premium", "Compact", "Eco", "Pro", "Ultra", "Essential", "Deluxe", "Smart", "Vintage"]
SIZES = [s for s, _ in ProductVariant.SIZES]
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


class Command(BaseCommand):
    help = "Create a deterministic demo catalog (categories, colors, products, variants) and an admin user."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=500, help="number of products (default 500)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--admin-user", default="admin", help="staff user to create (default admin)")
        parser.add_argument("--admin-password", default="admin", help="its password (default admin)")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    @transaction.atomic
    def handle(self, *args, **opts):
        if opts["products"] < 0:
            raise CommandError("--products must not be negative")
        if Category.objects.exists() or Product.objects.exists():
            raise CommandError("the catalog is not empty: seed a fresh database (manage.py flush first)")
        rng = random.Random(opts["seed"])

        # Explicit ids: Django 3.2 does not read them back from a bulk insert
        # on SQLite, and they make the catalog the same on every run.
        mains = [
            Category(id=n, name=name, slug=slugify(name), created_at=EPOCH)
            for n, name in enumerate(CATEGORIES, 1)
        ]
        leaves = []
        for main in mains:
            for sub in CATEGORIES[main.name]:
                leaves.append(Category(
                    id=len(mains) + len(leaves) + 1, name=sub, slug=slugify(f"{main.name} {sub}"),
                    parent=main, created_at=EPOCH,
                ))
        Category.objects.bulk_create(mains)
        Category.objects.bulk_create(leaves)
        colors = [Color(id=n, name=name, hex_code=hex_code) for n, (name, hex_code) in enumerate(COLORS, 1)]
        Color.objects.bulk_create(colors)

        products = []
        for pid in range(1, opts["products"] + 1):
            category = rng.choice(leaves)
            products.append(Product(
                id=pid,
                name=f"{rng.choice(ADJECTIVES)} {category.name} {pid}",
                slug=f"product-{pid}",
                description=f"A {category.name.lower()} item from {category.parent.name}.",
                category=category,
                price=Decimal(rng.randrange(500, 50000)) / 100,
                rating=Decimal(rng.randrange(100, 501)) / 100,
                sales_count=rng.randrange(0, 10000),
                is_featured=rng.random() < 0.1,
                created_at=EPOCH + timedelta(minutes=rng.randrange(0, 60 * 24 * 365)),
            ))
        Product.objects.bulk_create(products, batch_size=500)

        variants = []
        for product in products:
            combos = rng.sample([(c, s) for c in colors for s in SIZES], rng.randint(3, 5))
            for n, (color, size) in enumerate(combos, 1):
                variants.append(ProductVariant(
                    id=len(variants) + 1, product=product, color=color, size=size,
                    sku=f"SKU-{product.pk:06d}-{n}", stock=rng.randrange(0, 200),
                    price_adjustment=Decimal(rng.randrange(0, 2000)) / 100,
                ))
        ProductVariant.objects.bulk_create(variants, batch_size=500)

        user_model = get_user_model()
        admin = user_model.objects.filter(username=opts["admin_user"]).first()
        if admin is None:
            admin = user_model.objects.create_superuser(opts["admin_user"], "", opts["admin_password"])
        token, _ = Token.objects.get_or_create(user=admin)

        summary = {
            "categories": len(mains) + len(leaves),
            "main_categories": len(mains),
            "colors": len(colors),
            "products": len(products),
            "variants": len(variants),
            "admin_user": admin.username,
            "admin_token": token.key,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(self.style.SUCCESS(
                "Seeded {categories} categories ({main_categories} main), {colors} colors, "
                "{products} products, {variants} variants; admin user {admin_user!r}, token {admin_token}".format(**summary)
            ))
