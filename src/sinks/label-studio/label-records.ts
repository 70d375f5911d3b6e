/**
 * Reading a finished task back as a LabelRecord. The first submitted annotation decides the label (later
 * ones are reviews or overlaps); a task whose annotations were all cancelled was skipped.
 */
import type { LabelRecord } from '../sink.js';
import { sampleIdOf, type RawAnnotation, type RawTask } from './task-pages.js';

export interface DecisiveAnnotation {
  readonly status: LabelRecord['status'];
  readonly annotation: RawAnnotation;
}

export function decisiveAnnotation(task: RawTask): DecisiveAnnotation | null {
  const annotations = [...(task.annotations ?? [])].sort((a, b) => a.id - b.id);
  const submitted = annotations.find((annotation) => annotation.was_cancelled !== true);
  if (submitted) return { status: 'labeled', annotation: submitted };
  const skipped = annotations[0];
  return skipped ? { status: 'skipped', annotation: skipped } : null;
}

/** The user id of an annotation's author, whichever way the server spelled it. */
export function annotatorId(annotation: RawAnnotation): number | null {
  const by = annotation.completed_by;
  if (typeof by === 'number') return by;
  return typeof by?.id === 'number' ? by.id : null;
}

/**
 * The label an annotation's result gives: the chosen class name when one choice was made, the list when
 * several were, else the raw result (another control type).
 */
export function labelOf(annotation: RawAnnotation): unknown {
  const choices = (annotation.result ?? []).flatMap((item) => {
    const value = (item as { type?: unknown; value?: { choices?: unknown } }).value;
    return Array.isArray(value?.choices) ? value.choices.filter((c): c is string => typeof c === 'string') : [];
  });
  if (choices.length === 1) return choices[0];
  if (choices.length > 1) return choices;
  return annotation.result ?? null;
}

/** The record for a finished task, or null when it carries no sample id or has no annotation. */
export function labelRecordOf(task: RawTask, annotator: (annotation: RawAnnotation) => string | null): LabelRecord | null {
  const id = sampleIdOf(task);
  const decisive = decisiveAnnotation(task);
  if (id === null || decisive === null) return null;
  const uri = task.data['uri'];
  return {
    id,
    taskId: String(task.id),
    uri: typeof uri === 'string' ? uri : String(task.data['image'] ?? ''),
    status: decisive.status,
    label: decisive.status === 'labeled' ? labelOf(decisive.annotation) : null,
    annotator: annotator(decisive.annotation),
    time: decisive.annotation.created_at ?? null,
  };
}
