// The MongoDB pieces of the generated tree come from scripts/lib/mongodb (its own module and tests);
// this file is the one seam between the two, so the rest of the generator does not care who builds them.
import { mongoOperatorApplication } from '../mongodb/operator.ts';
import { mongoOverlayPatches, mongoReplicaSetBase, type OverlayPatch } from '../mongodb/replicaset.ts';
import type { EnvSpec, RepoSettings } from '../spec.ts';

export type { OverlayPatch };

export function mongoBaseObjects(settings: RepoSettings): object[] {
  return mongoReplicaSetBase(settings.operator.namespace);
}

export function mongoPatches(env: EnvSpec): OverlayPatch[] {
  return mongoOverlayPatches(env);
}

export function mongoOperatorApp(settings: RepoSettings, watchNamespaces: string[], project: string): object {
  return mongoOperatorApplication(settings, watchNamespaces, project);
}
