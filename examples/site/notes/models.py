from django.db import models


class Note(models.Model):
    """One short text, so `manage.py migrate` has real work to do on each database."""

    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text
