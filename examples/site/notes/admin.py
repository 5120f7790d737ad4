from django.contrib import admin

from notes.models import Author, Note, Post

for model in (Note, Author, Post):
    admin.site.register(model)
