export { denseOperator } from './operator.js';
export type { DenseMatrix, LinearOperator } from './operator.js';
export { countingOperator } from './counting-operator.js';
export type { CountingOperator, ProductCounts } from './counting-operator.js';
export { denseFromOperator, eachRowBlock } from './dense-from-operator.js';
export type { DenseFromOperatorOptions } from './dense-from-operator.js';
export { adjointTest } from './adjoint-test.js';
export type { AdjointTestOptions, AdjointTestResult } from './adjoint-test.js';
export { DEFAULT_RANK_EPS, numericalRank } from './numerical-rank.js';
export { DEFAULT_RESIDUAL_TOL } from './svd-types.js';
export type { ConvergenceReport, NormalConvergenceReport, SvdResult, TruncatedRightSvd, TruncatedSvdResult } from './svd-types.js';
export { exactSvd, thinSvd } from './thin-svd.js';
export { rightCoordinates, svdFromGram } from './gram-svd.js';
export type { GramSvd } from './gram-svd.js';
export { symmetricEigen } from './symmetric-eigen.js';
export type { SymmetricEigen } from './symmetric-eigen.js';
export type { ThinSvdOptions } from './thin-svd.js';
export { randomizedSvd } from './randomized-svd.js';
export type { RandomizedSvdOptions } from './randomized-svd.js';
export { lanczosSvd } from './lanczos.js';
export type { LanczosOptions } from './lanczos.js';
export { stackOperators } from './stacked-operator.js';
export { stackedRowsOf } from './stacked-rows.js';
export type { StackedRows } from './stacked-rows.js';
export { countingNormal, denseNormal, normalOfOperator } from './normal-operator.js';
export type { CountingNormal, NormalOperator } from './normal-operator.js';
export { blockLanczosNormal } from './block-lanczos-normal.js';
export type { BlockLanczosNormalOptions } from './block-lanczos-normal.js';
export { randomizedNormal } from './randomized-normal.js';
export type { RandomizedNormalOptions } from './randomized-normal.js';
export { addColumnGramUpper, addNormalProduct, columnGram, mirrorUpper, rowGram } from './gram.js';
export {
  DEFAULT_MAX_GRAM_ORDER,
  DEFAULT_TOP_RIGHT_BYTES,
  TOP_RIGHT_METHODS,
  planTopRight,
  topRightSingularVectors,
} from './top-right-singular-vectors.js';
export type { ResolvedTopRightMethod, TopRightMethod, TopRightOptions, TopRightPlan, TopRightResult } from './top-right-singular-vectors.js';
export { leadingNorms, projectionNorms } from './projection.js';
export type { ProjectionNorms } from './projection.js';
