/**
 * Finding the project rpr-select pushes to (by numeric id, or by exact title, created when missing with a
 * labeling config built from the class names) and giving it the Local Files storage it needs to serve
 * local images.
 */
import { RprError } from '../../errors/index.js';
import type { LabelStudioClient } from './client.js';
import { buildChoicesConfig, parseChoicesConfig, type ChoicesConfig } from './labeling-config.js';

export interface ResolvedProject {
  readonly id: number;
  readonly title: string;
  readonly config: ChoicesConfig;
}

export interface ProjectJson {
  readonly id: number;
  readonly title: string;
  readonly label_config: string;
}

interface ProjectList {
  readonly results?: readonly ProjectJson[];
  readonly next?: string | null;
}

interface StorageJson {
  readonly id: number;
  readonly path: string;
}

/**
 * A numeric id (number or digit string) must exist; a title is matched exactly (Label Studio's title
 * filter is a case-insensitive substring match) and created when absent unless `create` is false. The
 * project's config must pair an <Image> with a <Choices> that offers every class name.
 */
export async function resolveProject(
  client: LabelStudioClient,
  ref: number | string,
  classNames: readonly string[],
  options: { readonly create: boolean } = { create: true },
): Promise<ResolvedProject> {
  const project =
    isProjectId(ref) || !options.create
      ? await findProject(client, ref)
      : ((await projectByTitle(client, String(ref).trim())) ?? (await createProject(client, String(ref).trim(), classNames)));
  const config = parseChoicesConfig(project.label_config);
  if (config === null) {
    throw new RprError(
      'RPR_SINK_REFUSED',
      `Label Studio project ${project.id} ('${project.title}') has no <Image> labelled by a <Choices> in its labeling config, so it cannot hold rpr-select's tasks: give a new project title and rpr-select creates a suitable one`,
      { url: client.baseUrl, project: project.id },
    );
  }
  const missing = classNames.filter((name) => !config.choices.includes(name));
  if (missing.length > 0) {
    throw new RprError(
      'RPR_CONFIG',
      `class name${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} not among the choices of Label Studio project ${project.id} (${config.choices.join(', ')}): fix classNames or the project's labeling config`,
      { url: client.baseUrl, project: project.id, field: 'classNames' },
    );
  }
  return { id: project.id, title: project.title, config };
}

/** A project that must already exist, by id or exact title. */
export async function findProject(client: LabelStudioClient, ref: number | string): Promise<ProjectJson> {
  if (isProjectId(ref)) return projectById(client, Number(ref));
  const project = await projectByTitle(client, String(ref).trim());
  if (project === null) {
    throw new RprError(
      'RPR_SINK_NOT_FOUND',
      `Label Studio at ${client.baseUrl} has no project titled '${String(ref).trim()}' that the API key's user can see: check the title or give the project id`,
      { url: client.baseUrl, project: String(ref) },
    );
  }
  return project;
}

function isProjectId(ref: number | string): boolean {
  return typeof ref === 'number' || /^\d+$/.test(ref.trim());
}

async function projectById(client: LabelStudioClient, id: number): Promise<ProjectJson> {
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new RprError('RPR_CONFIG', `Label Studio project id must be a positive integer, got ${id}`, {
      field: 'project',
      value: id,
    });
  }
  try {
    return await client.json<ProjectJson>('GET', `/api/projects/${id}`);
  } catch (error) {
    if (error instanceof RprError && error.code === 'RPR_SINK_NOT_FOUND') {
      throw new RprError(
        'RPR_SINK_NOT_FOUND',
        `Label Studio at ${client.baseUrl} has no project ${id} that the API key's user can see: check the project id, or give a project title to have it created`,
        { url: client.baseUrl, project: id },
        { cause: error },
      );
    }
    throw error;
  }
}

async function projectByTitle(client: LabelStudioClient, title: string): Promise<ProjectJson | null> {
  if (title === '') {
    throw new RprError('RPR_CONFIG', 'Label Studio project title is empty: give a project id or title', {
      field: 'project',
    });
  }
  const matches: ProjectJson[] = [];
  for (let page = 1; ; page++) {
    const answer = await client.json<ProjectList>('GET', '/api/projects', {
      query: { title, page, page_size: 100 },
    });
    matches.push(...(answer.results ?? []).filter((project) => project.title === title));
    if (!answer.next) break;
  }
  // Titles are not unique in Label Studio; the oldest project with the title is the one rpr-select made.
  matches.sort((a, b) => a.id - b.id);
  return matches[0] ?? null;
}

function createProject(client: LabelStudioClient, title: string, classNames: readonly string[]): Promise<ProjectJson> {
  return client.json<ProjectJson>('POST', '/api/projects', {
    json: {
      title,
      label_config: buildChoicesConfig(classNames),
      description: 'Images selected by rpr-select for labeling.',
    },
  });
}

/**
 * Makes sure a Local Files storage of the project covers `directory`, so the server serves images from
 * it. The storage is never synced (a sync would create a second task per image); its regex matches no
 * file name, so an accidental sync imports nothing.
 */
export async function ensureLocalFilesStorage(
  client: LabelStudioClient,
  projectId: number,
  directory: string,
): Promise<void> {
  const storages = await client.json<readonly StorageJson[]>('GET', '/api/storages/localfiles', {
    query: { project: projectId },
  });
  const covered = storages.some((storage) => {
    const root = storage.path.replace(/\/+$/, '');
    return directory === root || directory.startsWith(`${root}/`);
  });
  if (covered) return;
  try {
    await client.json('POST', '/api/storages/localfiles', {
      json: {
        project: projectId,
        path: directory,
        title: 'rpr-select images',
        description: 'Serves images pushed by rpr-select. Do not sync: syncing would duplicate tasks.',
        regex_filter: '^$',
        use_blob_urls: true,
      },
      retry: true,
    });
  } catch (error) {
    if (error instanceof RprError && error.code === 'RPR_SINK_REFUSED') {
      throw new RprError(
        'RPR_SINK_REFUSED',
        `Label Studio at ${client.baseUrl} will not serve local images from '${directory}' (${error.message}): start it with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT above that directory (scripts/label-studio.sh does), or push http(s) image URLs`,
        { url: client.baseUrl, project: projectId, directory },
        { cause: error },
      );
    }
    throw error;
  }
}
