from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = "Evaluations"

    def ready(self) -> None:
        from runs.shell.finishes import ON_ENDED
        from runs.wiring import MODEL_WRAPPERS

        from .cassettes import wrap_models
        from .tasks import runs_ended

        if wrap_models not in MODEL_WRAPPERS:
            MODEL_WRAPPERS.append(wrap_models)
        if runs_ended not in ON_ENDED:
            ON_ENDED.append(runs_ended)
