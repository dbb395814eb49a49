from django.urls import path, re_path

from . import pages, views, widget

urlpatterns = [
    path("p/<slug:slug>/runs", views.start_run, name="publication-runs"),
    path("p/<slug:slug>/runs/<uuid:run_id>", views.read_run, name="publication-run"),
    path("p/<slug:slug>/widget/conversations", widget.start, name="widget-start"),
    path("p/<slug:slug>/widget/conversation", widget.read, name="widget-read"),
    path("p/<slug:slug>/widget/conversation/messages", widget.send, name="widget-send"),
    # The first widget put the token in these paths (so in every access log): refused.
    re_path(
        r"^p/(?P<slug>[-\w]+)/widget/conversations/(?P<token>[^/]+)(?:/messages)?$",
        widget.token_in_path,
        name="widget-token-in-path",
    ),
]

urlpatterns += [
    path("teams/<int:team_id>/publish/", pages.team_publishing, name="team-publishing"),
    path(
        "publications/<int:publication_id>/unpublish/",
        pages.unpublish,
        name="publication-unpublish",
    ),
    path("publications/<int:publication_id>/keys/", pages.issue_key, name="publication-key-issue"),
    path(
        "publications/<int:publication_id>/keys/<int:key_id>/revoke/",
        pages.revoke_key,
        name="publication-key-revoke",
    ),
]
