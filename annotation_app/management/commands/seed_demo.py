from django.core.management.base import BaseCommand

from annotation_app.services.demo import demo_seed


class Command(BaseCommand):
    help = "Create demo users (annotator, reviewer, admin), a project of each kind, and demo images."

    def handle(self, *args, **options):
        seed = demo_seed()
        self.stdout.write(f"seeded {seed.images} images and {len(seed.projects)} projects")
        for username, password in seed.users.items():
            self.stdout.write(f"  user {username:<10} password {password}")
