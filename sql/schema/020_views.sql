CREATE VIEW published_post AS
    SELECT p.id, p.title, a.name AS author
    FROM post p JOIN author a ON a.id = p.author_id
    WHERE p.published = 1;
