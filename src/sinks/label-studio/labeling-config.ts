/**
 * The labeling config of an image classification project: one <Image> and one single-choice <Choices>
 * whose options are the class names, in class-index order. `choicesResult` is the annotation/prediction
 * result that picks one class, the shape Label Studio stores for both.
 */
import { RprError } from '../../errors/index.js';

/** What a sink or ML backend needs to know of a project's config. */
export interface ChoicesConfig {
  /** `name` of the <Choices> tag: a result's from_name. */
  readonly fromName: string;
  /** `name` of the <Image> tag: a result's to_name. */
  readonly toName: string;
  /** The task data key the image URL is read from (`$image` → `image`). */
  readonly imageField: string;
  /** The <Choice> values in order. */
  readonly choices: readonly string[];
}

export interface ChoicesResult {
  readonly from_name: string;
  readonly to_name: string;
  readonly type: 'choices';
  readonly value: { readonly choices: readonly string[] };
}

export const DEFAULT_CHOICES_CONFIG = { fromName: 'label', toName: 'image', imageField: 'image' } as const;

export function buildChoicesConfig(classNames: readonly string[]): string {
  if (classNames.length === 0) {
    throw new RprError('RPR_CONFIG', 'classNames is empty: give the model\'s class names in class-index order', {
      field: 'classNames',
    });
  }
  const seen = new Set<string>();
  for (const name of classNames) {
    if (name.trim() === '' || seen.has(name)) {
      throw new RprError(
        'RPR_CONFIG',
        `classNames must be distinct and non-empty; '${name}' is ${name.trim() === '' ? 'empty' : 'repeated'}`,
        { field: 'classNames', value: name },
      );
    }
    seen.add(name);
  }
  const { fromName, toName, imageField } = DEFAULT_CHOICES_CONFIG;
  const choices = classNames.map((name) => `    <Choice value="${escapeXml(name)}"/>`).join('\n');
  return [
    '<View>',
    `  <Image name="${toName}" value="$${imageField}"/>`,
    `  <Choices name="${fromName}" toName="${toName}" choice="single" showInLine="true">`,
    choices,
    '  </Choices>',
    '</View>',
  ].join('\n');
}

/**
 * Reads the first <Choices> and the <Image> it points at. Null when the config has no such pair (then
 * the project cannot hold rpr-select's tasks or predictions).
 */
export function parseChoicesConfig(xml: string): ChoicesConfig | null {
  const choicesTag = /<Choices\b([^>]*)>([\s\S]*?)<\/Choices>/.exec(xml);
  if (!choicesTag) return null;
  const choicesAttributes = attributes(choicesTag[1]!);
  const fromName = choicesAttributes.get('name');
  const toName = choicesAttributes.get('toName');
  if (fromName === undefined || toName === undefined) return null;
  const image = [...xml.matchAll(/<Image\b([^>]*?)\/?>/g)]
    .map((match) => attributes(match[1]!))
    .find((attrs) => attrs.get('name') === toName);
  const value = image?.get('value');
  if (value === undefined || !value.startsWith('$')) return null;
  const choices = [...choicesTag[2]!.matchAll(/<Choice\b([^>]*?)\/?>/g)]
    .map((match) => attributes(match[1]!).get('value'))
    .filter((choice): choice is string => choice !== undefined);
  return { fromName, toName, imageField: value.slice(1), choices };
}

export function choicesResult(config: Pick<ChoicesConfig, 'fromName' | 'toName'>, choice: string): ChoicesResult {
  return { from_name: config.fromName, to_name: config.toName, type: 'choices', value: { choices: [choice] } };
}

function attributes(source: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of source.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    found.set(match[1]!, unescapeXml(match[3] ?? match[4] ?? ''));
  }
  return found;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch]!);
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (entity, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    return Object.entries(XML_ESCAPES).find(([, escaped]) => escaped === entity)![0];
  });
}
