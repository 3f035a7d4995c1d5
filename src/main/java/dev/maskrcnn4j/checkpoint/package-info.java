/**
 * Checkpoint reading without Python: {@link dev.maskrcnn4j.checkpoint.Checkpoint#load} reads
 * torch.save files (zip and legacy formats) through a restricted unpickler that never executes
 * anything, and safetensors files, into a {@link dev.maskrcnn4j.checkpoint.StateDict} of
 * {@link dev.maskrcnn4j.checkpoint.HostTensor}s (views of a read-only mapping of the file).
 * {@link dev.maskrcnn4j.checkpoint.KeyNames} maps the pre-0.13 torchvision key spelling to the
 * current one; {@link dev.maskrcnn4j.checkpoint.StateDict#validateSpecs} checks a checkpoint
 * against a model and reports every problem at once.
 *
 * <pre>{@code
 * StateDict sd = Checkpoint.load(Path.of("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth")).normalized();
 * sd.validate(model.expectedShapes());          // all missing/unexpected/wrong keys, one exception
 * float[] w = sd.require("backbone.body.conv1.weight", 64, 3, 7, 7).toFloatArray();
 * }</pre>
 */
package dev.maskrcnn4j.checkpoint;
