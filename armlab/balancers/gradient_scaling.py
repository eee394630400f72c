"""Identity in the forward pass, a scaled gradient in the backward pass.

The one tool of the balancers that change how strongly a loss trains a part
of the model without changing what the model computes: AGM scales each
modality's response, ARM each modality's learning signal from the fused loss.
"""
import torch


class ScaleGradient(torch.autograd.Function):
    """Identity forward; backward multiplies the incoming gradient by k."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(k)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        k, = ctx.saved_tensors
        return grad * k.to(grad.dtype), None


def scale_gradient(x: torch.Tensor, k) -> torch.Tensor:
    """``x`` whose gradient is multiplied by ``k`` on the way back."""
    k = torch.as_tensor(k, device=x.device).detach()
    return ScaleGradient.apply(x, k)
