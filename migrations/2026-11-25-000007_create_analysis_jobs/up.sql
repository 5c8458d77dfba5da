-- Vision analysis jobs. PostgreSQL is the source of truth for job status; Redis only carries ids.

CREATE TABLE analysis_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source_conversion_id uuid REFERENCES image_conversions (id) ON DELETE SET NULL,
    -- the job's own reference to its (dex-compatible) image
    image_id uuid REFERENCES stored_images (id) ON DELETE RESTRICT,
    -- random 128-bit capability token (hex) in the job image's URL
    image_token varchar(32),
    image_conversion_status varchar(20) NOT NULL DEFAULT 'pending',
    post_conversion_transformations jsonb NOT NULL DEFAULT '{}',
    status varchar(20) NOT NULL DEFAULT 'pending',
    cv_method varchar(20) NOT NULL DEFAULT 'openai',
    model_name varchar(100) NOT NULL DEFAULT 'gpt-4o-mini',
    detail_level varchar(20) NOT NULL DEFAULT 'auto',
    raw_response jsonb,
    parsed_prediction text NOT NULL DEFAULT '',
    identified_animal_id uuid REFERENCES animals (id) ON DELETE SET NULL,
    confidence_score double precision,
    -- [{scientific_name, common_name, confidence, animal_id, is_new}, ...]
    detected_animals jsonb NOT NULL DEFAULT '[]',
    selected_animal_index integer,
    -- USD; rendered with six decimals as the old numeric(10,6) column was
    cost_usd double precision,
    processing_time double precision,
    input_tokens integer,
    output_tokens integer,
    error_message text NOT NULL DEFAULT '',
    retry_count integer NOT NULL DEFAULT 0,
    -- set while a transient provider error is being retried (status stays 'processing')
    next_retry_at timestamptz,
    -- worker lease: the reaper only takes jobs whose lease has passed
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    CONSTRAINT analysis_jobs_status_check
        CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    CONSTRAINT analysis_jobs_image_conversion_status_check
        CHECK (image_conversion_status IN ('pending', 'processing', 'completed', 'failed', 'unnecessary')),
    CONSTRAINT analysis_jobs_cv_method_check CHECK (cv_method IN ('openai', 'fallback')),
    CONSTRAINT analysis_jobs_retry_count_check CHECK (retry_count >= 0)
);

CREATE UNIQUE INDEX analysis_jobs_image_token_key ON analysis_jobs (image_token);
CREATE INDEX analysis_jobs_user_id_status_idx ON analysis_jobs (user_id, status);
CREATE INDEX analysis_jobs_status_created_at_idx ON analysis_jobs (status, created_at);
CREATE INDEX analysis_jobs_identified_animal_id_idx ON analysis_jobs (identified_animal_id);
CREATE INDEX analysis_jobs_created_at_idx ON analysis_jobs (created_at);
CREATE INDEX analysis_jobs_source_conversion_id_idx ON analysis_jobs (source_conversion_id);
CREATE INDEX analysis_jobs_image_id_idx ON analysis_jobs (image_id);
-- Reaper: unfinished jobs by lease expiry.
CREATE INDEX analysis_jobs_unfinished_locked_until_idx ON analysis_jobs (locked_until)
    WHERE status IN ('pending', 'processing');

SELECT manage_updated_at('analysis_jobs');
