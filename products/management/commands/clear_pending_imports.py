"""`manage.py clear_pending_imports`: remove uploads of the admin import unconfirmed for a day.

The import form removes them itself whenever it is used; run this daily (cron, a scheduled
task) so that an upload nobody comes back to does not stay in the database.
"""

from django.core.management.base import BaseCommand

from products.models import PendingImport


class Command(BaseCommand):
    help = "Remove uploads of the admin's EMA import that have waited more than a day."

    def handle(self, *args, **options):
        removed, _by_model = PendingImport.objects.expired().delete()
        self.stdout.write(f"removed {removed} pending upload(s) older than a day")
