from django.urls import path

from . import views_start, views_templates

urlpatterns = [
    path("templates/", views_templates.gallery, name="template-gallery"),
    path("templates/<slug:slug>/use", views_templates.use_template, name="template-use"),
    path("start/", views_start.start, name="start"),
    path("start/connect", views_start.connect, name="start-connect"),
]
