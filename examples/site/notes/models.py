from django.db import models


class Note(models.Model):
    """One short text, so `manage.py migrate` has real work to do on each database."""

    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    """Posts; the `published_post` view over them is not Django's (sql/migrations adds it)."""

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, null=True)
    published = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.title
