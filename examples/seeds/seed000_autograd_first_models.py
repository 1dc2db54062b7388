# Deep Learning with PyTorch II: automatic differentiation and first models
# Generated from seed000_autograd_first_models.ipynb (ember run runs either).

# %%
import torch


t = torch.tensor([-1], dtype=torch.float, requires_grad=True)
z = torch.exp(-t*t)
z.retain_grad()
z.backward()
grad_t = t.grad

# %%
import torch


x = torch.tensor([2.0], dtype=torch.float, requires_grad=True)
y = torch.tensor([-2.0], dtype=torch.float, requires_grad=True)
z = torch.tensor([1.0], dtype=torch.float, requires_grad=True)
result = torch.exp(x * z + y * y)
result.retain_grad()
result.backward()

# Dérivée partielle de result par rapport à x
print(x.grad)

# Dérivée partielle de result par rapport à y
print(y.grad)

# Dérivée partielle de result par rapport à z
print(z.grad)

# %%
import torch
import torch.nn as nn


class LinearRegression(nn.Module):
    
    def __init__(self, n_feature):
        super(LinearRegression, self).__init__()
        self.regression = nn.Linear(n_feature, 1)
        
        
    def forward(self, x):
        return self.regression(x)

model = LinearRegression(2)

x = torch.tensor([[1, 1]], dtype=torch.float)
y_pred = model.forward(x)

parameters = model.parameters()
for param in parameters:
    print(param)

# %%
import torch
import torch.nn as nn
import numpy as np


class LinearRegression(nn.Module):
    
    def __init__(self, n_feature):
        super(LinearRegression, self).__init__()
        self.regression = nn.Linear(n_feature, 1)
        
        
    def forward(self, x):
        return torch.flatten(self.regression(x))
        
    
    def mse(self, y, y_pred):
        m = len(y)
        return (1/m) * np.sum((y - y_pred) ** 2)
        
        
y = torch.tensor([0.5, -0.5, 1, 0], dtype=torch.float)
x = torch.tensor([[1], [-1], [1], [1]], dtype=torch.float)

model = LinearRegression(x.shape[1])
y_pred = model.forward(x)

loss = torch.nn.MSELoss()
mse1 = loss(y_pred, y)
self_mse = model.mse(y.numpy(), y_pred.detach().numpy())
print(mse1.detach().numpy()) # pytorch mse
print(self_mse) # self coded mse
mse1.backward() # computes the partial derivatives of loss 
# regarding 

#Affiche les dérivées partielles de mse 
# par rapport à chaque paramètre du modèle.
parameters = model.parameters()
for param in parameters:
    print(param.grad) # derivee partielle de mse1 par rapport
    # au param

# %%
import torch
import torch.nn as nn
import numpy as np


class LogisticRegression(nn.Module):
    
    def __init__(self, n_feature):
        super(LogisticRegression, self).__init__()
        self.regression = nn.Linear(n_feature, 1)
        
        
    def forward(self, x):
        linear_pred = self.regression(x)
        return torch.flatten(torch.sigmoid(linear_pred))
        

model = LogisticRegression(3)
x = torch.tensor([0, 0, 0], dtype=torch.float)
y_pred = model.forward(x)

# %%
import torch


class SGD(torch.optim.Optimizer):
    
    def __init__(self, model_params, lr):
        super(SGD, self).__init__(model_params, {})
        self.params = model_params
        self.lr = lr
        
        
    def step(self):
        for param in self.params:
            param = param - self.lr * param.grad.data
            
        
    def zero_grad(self):
        for param in self.params:
            param.grad.data = torch.zeros_like(param.grad)

# %%
# The course leaves its SGD unused: try it on a model's parameters (a list, so it can be iterated
# more than once) and check that step() and zero_grad() run.
params = list(LogisticRegression(3).parameters())
opt = SGD(params, lr=0.1)
loss = torch.sigmoid(torch.stack([p.sum() for p in params])).pow(2).sum()
loss.backward()
opt.step()
opt.zero_grad()
print([p.grad.abs().sum().item() for p in params])
