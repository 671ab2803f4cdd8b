-- The hyperparameters a job trained with, each value with why it was chosen (set by the user, read from the
-- data, or the default); written by the worker once they are resolved, shown in GET /jobs/:id.
ALTER TABLE "Job" ADD COLUMN "resolvedHyperparameters" JSONB;
