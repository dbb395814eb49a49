from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("teams", "0005_move_keys_to_credentials")]

    operations = [migrations.RemoveField(model_name="modelconfig", name="api_key_env")]
