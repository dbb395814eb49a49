from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = "Evaluations"

    def ready(self) -> None:
        # By dotted path: registering imports neither the run shell nor this app's modules.
        from runs import hooks

        hooks.register(hooks.MODEL_WRAPPERS, "evaluations.cassettes.wrap_models")
        hooks.register(hooks.ON_ENDED, "evaluations.tasks.runs_ended")
