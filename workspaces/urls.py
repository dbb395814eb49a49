from django.urls import path

from . import pages, views

urlpatterns = [
    path("", pages.home, name="home"),
    path("invitations/<str:token>", views.invitation, name="workspace-invitation"),
    path("workspaces/", pages.workspace_list, name="workspace-list"),
    path("workspaces/roles/", pages.role_matrix, name="workspace-roles"),
    path("workspaces/switch/", pages.switch, name="workspace-switch"),
    path("workspaces/<slug:slug>/settings/", pages.workspace_settings, name="workspace-settings"),
    path("workspaces/<slug:slug>/members/", pages.members, name="workspace-members"),
    path("workspaces/<slug:slug>/members/add/", pages.member_add, name="workspace-member-add"),
    path(
        "workspaces/<slug:slug>/members/<str:username>/",
        pages.member_change,
        name="workspace-member",
    ),
    path("workspaces/<slug:slug>/leave/", pages.leave, name="workspace-leave"),
    path("workspaces/<slug:slug>/invitations/", pages.invitation_create, name="workspace-invite"),
    path(
        "workspaces/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        pages.invitation_revoke,
        name="workspace-invitation-revoke",
    ),
    path("workspaces/<slug:slug>/activity/", pages.activity, name="workspace-activity"),
]
