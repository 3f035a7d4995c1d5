package dev.maskrcnn4j.model;

import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.Tensor;

/** One residual block of a ResNet stage, its FrozenBatchNorms folded into its convolutions. */
interface ResidualBlock extends AutoCloseable {
    /**
     * The block's output for NHWC {@code input}, allocated from {@code scope}; the input is left
     * open (the caller knows whether it is still needed), the block's temporaries are freed.
     */
    Tensor forward(Scope scope, Tensor input);

    @Override
    void close();
}
