-- Where a job's time went: [{stage, seconds}, …] of the latest attempt (queued wait, datasets, features, training …).
ALTER TABLE "Job" ADD COLUMN "stageTimes" JSONB;
