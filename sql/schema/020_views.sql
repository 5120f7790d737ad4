-- Not Django's: sql/migrations/0001_published_post_view.sql creates it on top of the
-- tables Django's migrations made (010_django.sql), so it is part of the desired state.
CREATE VIEW published_post AS
    SELECT p.id, p.title, a.name AS author
    FROM notes_post p JOIN notes_author a ON a.id = p.author_id
    WHERE p.published = 1;
