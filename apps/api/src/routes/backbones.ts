// GET /backbones: the registered pretrained backbones a job may name.
import { Type } from '@sinclair/typebox';
import { listBackbones } from '@graft/engine';
import { BackboneView, ref, type RoutePlugin } from '../schemas.ts';

const backbones: RoutePlugin = async (app) => {
  app.get(
    '/backbones',
    {
      config: { scope: 'any' },
      schema: {
        tags: ['backbones'],
        summary: 'List the registered backbones',
        description: 'The first one is the default (feature_extraction on up to 1,000 labelled images with no imageSize set runs on inception_v3; GET /jobs/{id} resolvedHyperparameters.backbone says which and why). A job may also bring its own TF.js layers model as backbone: { url }.',
        response: { 200: Type.Object({ items: Type.Array(ref(BackboneView)) }) },
      },
    },
    async () => ({ items: listBackbones() }),
  );
};

export default backbones;
