-- Runs after Django's own migrations (the before_publishing hook): the view Django's
-- models cannot declare. sql/schema/020_views.sql holds the same definition.
CREATE VIEW published_post AS
    SELECT p.id, p.title, a.name AS author
    FROM notes_post p JOIN notes_author a ON a.id = p.author_id
    WHERE p.published = 1;
