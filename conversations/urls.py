from django.urls import path

from . import views

urlpatterns = [
    path("conversations/<int:conversation_id>/", views.conversation_detail,
         name="conversation-detail"),
    path("teams/<int:team_id>/conversations/", views.team_conversations,
         name="team-conversations"),
]  # fmt: skip
