DROP TABLE stored_images;
