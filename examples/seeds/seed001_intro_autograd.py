# Introduction à PyTorch: autograd
# Generated from seed001_intro_autograd.ipynb (ember run runs either).

# %%
import torch 

# %%
#Exemple de création d'un tableau bidimensionnel
x = torch.tensor([[1, 2, 3],[4, 5 ,6], [7, 8 ,9], [10, 11, 12]])
print(x.shape)

# %%
#Exemple de création d'un tableau bidimensionnel en activant l'autograd
x = torch.tensor([[1., 2., 3.],[4., 5. ,6.], [7., 8. ,9.], [10., 11., 12.]],requires_grad=True)
print(x)

# %%
#Exemple d'utilisation de l'autograd avec des scalaires

# Création des tenseurs scalaires
x = torch.tensor(1., requires_grad=True)
w = torch.tensor(2.)
b = torch.tensor(3.)

print(x.grad) # None

# Construction du graphe de calcul (propagation avant)
z = w*x
y = z+b # y = 2*x + 3

# Calcul du gradient (rétropropagation)
y.backward(torch.tensor(1.))

# Affichage du gradient
print(x.grad)    # x.grad = 2 

# %%
#Exemple d'utilisation de l'autograd avec des scalaires

# Création des tenseurs scalaires
x = torch.tensor(4., requires_grad=True)
w = torch.tensor(2., requires_grad=True)
b = torch.tensor(3., requires_grad=True)

print(x.grad) # None
print(w.grad) # None
print(b.grad) # None

# Construction du graphe de calcul (propagation avant)
z = w*x
y = z+b

# Calcul des gradients (rétropropagation)
y.backward(torch.tensor(1.))

# Affichage des gradients
print(x.grad)    # x.grad = 2.
print(w.grad)    # w.grad = 4. 
print(b.grad)    # b.grad = 1. 

# %%
#Exemple d'utilisation de l'autograd avec des tenseurs 2D

# Création des tenseurs
X = torch.tensor([[1., 2., 3.],[4., 5. ,6.], [7., 8. ,9.], [10., 11., 12.]],requires_grad=True) #tableau 4x3 
W = torch.tensor([[1., 2.],[4., 5.], [7., 8.]],requires_grad=True) #tableau 3x2 
b = torch.tensor([4., 5.], requires_grad=True) #vecteur de taille 2


# Construction du graphe de calcul (propagation avant)
z1 = X.matmul(W)
z2 = z1 + b
y = z2.sum()

# Calcul des gradients (rétropropagation)
y.backward(torch.tensor(1.))

# Affichage des gradients
print(X.grad)
print(W.grad)
print(b.grad)

# %%
# CAS 1

# Création des tenseurs
X = torch.tensor([[1., 2., 3.],[4., 5. ,6.], [7., 8. ,9.], [10., 11., 12.]],requires_grad=True) #tableau 4x3 
W = torch.tensor([[1., 2.],[4., 5.], [7., 8.]],requires_grad=True) #tableau 3x2 

# Construction du graphe de calcul (propagation avant)
Z = X.matmul(W)
y = Z.sum()

y.backward(torch.tensor(1.))

print(X.grad)
# CAS 2

# Création des tenseurs
X = torch.tensor([[1., 2., 3.],[4., 5. ,6.], [7., 8. ,9.], [10., 11., 12.]],requires_grad=True) #tableau 4x3 
W = torch.tensor([[1., 2.],[4., 5.], [7., 8.]],requires_grad=True) #tableau 3x2 

# Construction du graphe de calcul (propagation avant)
Z = X.matmul(W)
y = Z.sum()

dy_dZ = torch.ones(Z.shape) #dérivée de la fonction sum
Z.backward(dy_dZ)

print(X.grad)
