"""Public pages of the catalogue."""

from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
]
