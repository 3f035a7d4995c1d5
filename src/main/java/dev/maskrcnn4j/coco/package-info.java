/**
 * COCO conventions: torchvision's 91-label category list ({@link dev.maskrcnn4j.coco.CocoCategories})
 * and COCO's run-length encoding of masks ({@link dev.maskrcnn4j.coco.CocoRle}), the pieces of a
 * COCO results file. Pure Java, no native code.
 */
package dev.maskrcnn4j.coco;
