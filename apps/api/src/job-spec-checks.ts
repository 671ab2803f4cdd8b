// What a submitted job spec must satisfy beyond its schema: the checks that need the method's rules,
// the backbone registry or the database. Each failure names the field so the client can fix it.
import { ErrorCode, GraftError, methodsNeedingSource, type DatasetRef, type JobSpec } from '@graft/spec';
import type { PrismaClient } from '@graft/db';
import type { BackboneInfo, ListedBackbone } from '@graft/engine';
import type { Principal } from './auth/principal.ts';
import { checkSpecUrls, type UrlPolicyContext } from './auth/url-policy.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string) => uuid.test(s);

function invalid(field: string, message: string): GraftError {
  return new GraftError(ErrorCode.validation, message, { field });
}

/** An uploaded dataset of the caller's tenant (another tenant's id reads as unknown). */
async function checkDatasetRef(prisma: PrismaClient, tenantId: string, field: string, ref: DatasetRef | undefined): Promise<void> {
  if (!ref || !('id' in ref)) return;
  const found = isUuid(ref.id) && (await prisma.dataset.findFirst({ where: { id: ref.id, tenantId }, select: { id: true } }));
  if (!found) throw invalid(`${field}.id`, `${field}.id '${ref.id}' is not an uploaded dataset; upload the archive with POST /datasets and use the id it returns`);
}

/** A registered backbone takes only the image sizes its graph can be adapted to. */
function checkImageSize(spec: JobSpec, backbone: BackboneInfo): void {
  const size = spec.hyperparameters?.imageSize;
  const { min, max, multipleOf } = backbone.imageSizes;
  if (size !== undefined && (size < min || size > max || size % multipleOf !== 0)) {
    const step = multipleOf > 1 ? ` and a multiple of ${multipleOf}` : '';
    throw invalid('hyperparameters.imageSize', `hyperparameters.imageSize ${size} does not fit backbone ${backbone.id}: use ${min}..${max}${step}`);
  }
}

export interface SpecCheckContext extends Omit<UrlPolicyContext, 'principal'> {
  prisma: PrismaClient;
  backbones: readonly ListedBackbone[];
  principal: Principal;
}

export async function checkJobSpec(spec: JobSpec, ctx: SpecCheckContext): Promise<void> {
  const needsSource = methodsNeedingSource.includes(spec.method);
  if (needsSource && !spec.source) {
    throw invalid('source', `source is required for method ${spec.method}: give the labelled source-domain archive as source: { url } or { id }`);
  }
  if (!needsSource && spec.source) {
    throw invalid('source', `source is only used by ${methodsNeedingSource.join(' and ')}; remove it for method ${spec.method}`);
  }
  if (typeof spec.backbone === 'object' && spec.backbone.pixelRange && spec.backbone.preprocessing) {
    throw invalid('backbone.preprocessing', 'give backbone.pixelRange or backbone.preprocessing, not both (preprocessing also says the range)');
  }
  if (typeof spec.backbone !== 'object') {
    const id = spec.backbone ?? ctx.backbones[0]?.id; // the registry lists its default first
    const backbone = ctx.backbones.find((b) => b.id === id);
    if (!backbone) {
      const ids = ctx.backbones.map((b) => b.id).join(', ');
      throw new GraftError(ErrorCode.unknownBackbone, `backbone '${id}' is not registered; use one of ${ids} (GET /backbones) or { url } of a TF.js layers model`, {
        field: 'backbone',
      });
    }
    if (!backbone.available) {
      const usable = ctx.backbones.filter((b) => b.available).map((b) => b.id).join(', ');
      throw new GraftError(ErrorCode.unknownBackbone, `backbone '${id}' is not available here (${backbone.unavailableReason}); use one of ${usable}`, { field: 'backbone' });
    }
    checkImageSize(spec, backbone);
  }
  const { tenantId } = ctx.principal;
  await checkDatasetRef(ctx.prisma, tenantId, 'dataset', spec.dataset);
  await checkDatasetRef(ctx.prisma, tenantId, 'source', spec.source);
  await checkDatasetRef(ctx.prisma, tenantId, 'validation', spec.validation);
  checkSpecUrls(spec, ctx);
}
