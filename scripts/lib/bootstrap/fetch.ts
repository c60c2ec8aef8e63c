// Downloads the pinned upstream manifest at run time (never vendored in the repo).
import { KubeRequestError } from '../kube/client.ts';

export async function fetchText(url: string, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new KubeRequestError(`cannot download ${url}: ${(error as Error).message}\n    fix: check the machine's internet access (or proxy settings) and retry`, undefined);
  }
  if (!res.ok) {
    throw new KubeRequestError(`cannot download ${url}: HTTP ${res.status}\n    fix: check that gitops.yaml argocd.version names a released Argo CD version`, res.status);
  }
  return res.text();
}
