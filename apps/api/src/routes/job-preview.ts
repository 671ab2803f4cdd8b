// POST /jobs/preview: the hyper-parameters a job with this spec would train with, and why each, without
// submitting it. Uploaded datasets are read through their summaries and resolved by the engine's own rules
// (the worker resolves them again from the data when the job starts, and GET /jobs/:id shows that record);
// what depends on data given by URL is named as settled at start rather than guessed.
import { ErrorBody, JobPreview, JobSpec, type DatasetRef, type Hyperparameters } from '@graft/spec';
import { backboneChoice, dataAwareDefaults, listBackbones, unknownProfile, medianSide, profileRoles, resolveWithReasons, type DataProfile } from '@graft/engine';
import { ref, type RoutePlugin } from '../schemas.ts';
import { checkJobSpec } from '../job-spec-checks.ts';
import type { DatasetSummaries, SummaryFacts } from '../dataset-summaries.ts';
import { findDataset } from './datasets.ts';

const jobPreview: RoutePlugin<{ summaries: DatasetSummaries }> = async (app, { summaries }) => {
  /** An uploaded dataset's summary; null for one given by URL, which only a job downloads. */
  const facts = async (r: DatasetRef | undefined, tenantId: string): Promise<SummaryFacts | null> => {
    if (!r || !('id' in r)) return null;
    const row = await findDataset(app, r.id, tenantId);
    return summaries.get(row.id, row.storageKey);
  };

  app.post(
    '/jobs/preview',
    {
      config: { scope: 'train' },
      schema: {
        tags: ['jobs'],
        summary: 'Preview the hyper-parameters a job would train with',
        description:
          'Checks the spec as POST /jobs does (same 400s) and answers each hyper-parameter the job would use with its reason, chosen from uploaded datasets (dataset/source { id }) as the worker chooses them. Nothing is submitted.',
        body: ref(JobSpec),
        response: { 200: ref(JobPreview), 400: ref(ErrorBody), 404: ref(ErrorBody) },
      },
    },
    async (req) => {
      const spec = req.body;
      const backbones = listBackbones();
      await checkJobSpec(spec, { prisma: app.prisma, backbones, principal: req.principal, storageUrl: app.config.storageUrl });
      const { tenantId } = req.principal;
      const user: Hyperparameters = spec.hyperparameters ?? {};
      const [target, source] = await Promise.all([facts(spec.dataset, tenantId), facts(spec.source, tenantId)]);
      // the engine's own roles; a dataset given by URL (null) leaves the profile unknown
      const { labelled, other, sized } = profileRoles(spec.method, target, spec.source ? source : undefined);
      const profile: DataProfile | null =
        labelled && other !== null && sized.every(Boolean)
          ? {
              labelledImages: labelled.summary.images,
              otherImages: other?.summary.images ?? 0,
              classes: labelled.summary.classes.length,
              nativeSide: medianSide(sized.flatMap((f) => f!.sides)),
            }
          : null;
      // the backbone the job would load, as train() picks it on a worker whose blocks train on ONNX Runtime; one
      // that trains them on TF.js (GPU, GRAFT_ONNX=off) may pick another, and this process cannot know which runs it
      const onOnnx = backboneChoice(spec.method, spec.backbone, profile, user, 'onnxruntime');
      const onTfjs = backboneChoice(spec.method, spec.backbone, profile, user, 'tfjs');
      const backbone =
        onOnnx && onTfjs && onTfjs.value !== onOnnx.value
          ? { value: onOnnx.value, why: `${onOnnx.why}. On a worker that trains blocks on TF.js (GPU, GRAFT_ONNX=off): ${onTfjs.value} (${onTfjs.why})` }
          : onOnnx;
      const registered = backbone && backbones.find((b) => b.id === backbone.value);
      // which values the data decides does not depend on the data itself, only on what the user left out
      const dataDecided = [
        ...Object.keys(dataAwareDefaults(spec.method, spec.backbone === undefined ? backbones[0] : registered, unknownProfile, user)),
        ...(spec.backbone === undefined && !backboneChoice(spec.method, undefined, null, user) ? ['backbone'] : []),
      ];
      const fromData = profile ? dataAwareDefaults(spec.method, registered, profile, user) : {};
      const imageSize = user.imageSize ?? fromData.imageSize?.value ?? registered?.nativeImageSize;
      // a combination the engine refuses (feature_extraction with trainable blocks …) is a 400 with its code here
      const explained = resolveWithReasons(spec.method, user, fromData, imageSize ?? 0).choices;
      const choices = backbone ? { ...explained, backbone } : explained;
      const decidedAtStart = [
        ...new Set([
          ...(profile ? [] : dataDecided),
          ...(imageSize === undefined ? ['imageSize'] : []),
          ...(user.seed === undefined ? ['seed'] : []),
        ]),
      ];
      const resolved = Object.fromEntries(Object.entries(choices).filter(([k]) => !decidedAtStart.includes(k)));
      return { resolvedHyperparameters: resolved, decidedAtStart };
    },
  );
};

export default jobPreview;
