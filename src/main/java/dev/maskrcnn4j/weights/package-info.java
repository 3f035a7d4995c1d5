/**
 * Where checkpoints come from: {@link dev.maskrcnn4j.weights.WeightsCache} resolves a local path or
 * downloads an http(s) URL once into a cache folder (resumable, SHA-256 verified, safe across
 * threads and processes); {@link dev.maskrcnn4j.weights.DefaultWeights} names torchvision's
 * published weights for each model config. Pure Java (java.net.http), no native code.
 */
package dev.maskrcnn4j.weights;
