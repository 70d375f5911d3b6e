/**
 * How the evaluation retrains after every round: from scratch (fresh seeded weights), with the same
 * recipe for every policy. A smaller CNN than the demo model and a fixed budget of image passes keep the
 * thousands of retrainings affordable on two cores; the budget depends only on the labeled-set size.
 */
import type { ClassifierArchitecture, TrainClassifierOptions } from '../model/train-classifier.js';

export interface TrainingRecipe {
  readonly architecture: Partial<ClassifierArchitecture>;
  /** Each retraining runs ceil(imagePasses / labeled) epochs, clamped to [minEpochs, maxEpochs]. */
  readonly imagePasses: number;
  readonly minEpochs: number;
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly maxShiftPixels: number;
}

export const EVALUATION_RECIPE: TrainingRecipe = {
  architecture: { convFilters: [8, 16], denseUnits: 32 },
  imagePasses: 3000,
  minEpochs: 4,
  maxEpochs: 30,
  batchSize: 32,
  learningRate: 0.003,
  maxShiftPixels: 2,
};

/** Epochs for a labeled set of `labeled` images. */
export function epochsFor(recipe: TrainingRecipe, labeled: number): number {
  return Math.min(recipe.maxEpochs, Math.max(recipe.minEpochs, Math.ceil(recipe.imagePasses / Math.max(1, labeled))));
}

/** trainDigitClassifier options for one retraining. */
export function trainingOptions(recipe: TrainingRecipe, labeled: number, seed: number): TrainClassifierOptions {
  return {
    epochs: epochsFor(recipe, labeled),
    seed,
    batchSize: recipe.batchSize,
    learningRate: recipe.learningRate,
    maxShiftPixels: recipe.maxShiftPixels,
    architecture: recipe.architecture,
    backend: 'wasm',
  };
}

/** One line for the README. */
export function describeRecipe(recipe: TrainingRecipe): string {
  return (
    `retrained from scratch each round (seeded Glorot init, Adam lr ${recipe.learningRate}, batch ${recipe.batchSize}, ` +
    `±${recipe.maxShiftPixels} px shifts), ceil(${recipe.imagePasses} / labeled) epochs clamped to ` +
    `[${recipe.minEpochs}, ${recipe.maxEpochs}]`
  );
}
