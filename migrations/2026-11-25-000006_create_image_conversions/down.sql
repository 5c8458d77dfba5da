DROP TABLE image_conversions;
