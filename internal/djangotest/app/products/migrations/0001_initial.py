# Written from what Django 3.2.25's makemigrations generated; `manage.py
# makemigrations --check` finds no changes against the models.

from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone


def create_model(name, fields, **options):
    """CreateModel with the implicit id and the ordering by id that every model here has."""
    return migrations.CreateModel(
        name=name,
        fields=[('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID'))] + fields,
        options={'ordering': ['id'], **options},
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        create_model('Category', [
            ('name', models.CharField(max_length=100)),
            ('slug', models.SlugField(max_length=120, unique=True)),
            ('description', models.TextField(blank=True)),
            ('is_active', models.BooleanField(default=True)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('parent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='children', to='products.category')),
        ], verbose_name_plural='categories'),
        create_model('Color', [
            ('name', models.CharField(max_length=50, unique=True)),
            ('hex_code', models.CharField(max_length=7)),
        ]),
        create_model('Product', [
            ('name', models.CharField(max_length=200)),
            ('slug', models.SlugField(max_length=220, unique=True)),
            ('description', models.TextField(blank=True)),
            ('price', models.DecimalField(decimal_places=2, max_digits=10)),
            ('rating', models.DecimalField(decimal_places=2, default=0, max_digits=3)),
            ('sales_count', models.PositiveIntegerField(default=0)),
            ('is_active', models.BooleanField(default=True)),
            ('is_featured', models.BooleanField(default=False)),
            ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ('updated_at', models.DateTimeField(auto_now=True)),
            ('category', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='products', to='products.category')),
        ]),
        create_model('ProductVariant', [
            ('size', models.CharField(choices=[('XS', 'XS'), ('S', 'S'), ('M', 'M'), ('L', 'L'), ('XL', 'XL')], max_length=4)),
            ('sku', models.CharField(max_length=40, unique=True)),
            ('stock', models.PositiveIntegerField(default=0)),
            ('price_adjustment', models.DecimalField(decimal_places=2, default=0, max_digits=8)),
            ('color', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='variants', to='products.color')),
            ('product', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='variants', to='products.product')),
        ], unique_together={('product', 'color', 'size')}),
    ]
