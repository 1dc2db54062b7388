# Module 2b: playing with PyTorch: linear regression (dataflowr)
# Generated from seed004_linear_regression.ipynb (ember run runs either).

# %%
import matplotlib.pyplot as plt
# %matplotlib inline
import torch
import numpy as np

# %%
torch.__version__

# %%
import numpy as np
from numpy.random import random
# generate random input data
x = random((30,2)) #générer des données d'entrée aléatoires :

# generate labels corresponding to input data x/générer des labels correspondant aux données d'entrée x, des vraies valleurs de y:
y = np.dot(x, [2., -3.]) + 1.
w_source = np.array([2., -3.])
b_source  = np.array([1.])

# %%
x[:5]

# %%
import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.mplot3d import Axes3D

def plot_figs(fig_num, elev, azim, x, y, weights, bias):
    fig = plt.figure(fig_num, figsize=(4, 3))
    plt.clf()
    ax = Axes3D(fig, elev=elev, azim=azim)
    ax.scatter(x[:, 0], x[:, 1], y)
    ax.plot_surface(np.array([[0, 0], [1, 1]]),
                    np.array([[0, 1], [0, 1]]),
                    (np.dot(np.array([[0, 0, 1, 1],
                                          [0, 1, 0, 1]]).T, weights) + bias).reshape((2, 2)),
                    alpha=.5)
    ax.set_xlabel('x_1')
    ax.set_ylabel('x_2')
    ax.set_zlabel('y')
    
def plot_views(x, y, w, b):
    #Generate the different figures from different views/ génère différentes figures issues des différents vues :
    elev = 43.5
    azim = -110
    plot_figs(1, elev, azim, x, y, w, b[0])

    plt.show()

# %%
plot_views(x, y, w_source, b_source) 
#Notre tâche est de représenter l'équation des points(observation) du plan et miniser la MSE. 

# %%
# randomly initialize learnable weights and bias/on inialise de manière aléatoire les poids et biais apprenables: 
w_init = random(2)
b_init = random(1)

w = w_init
b = b_init
print("initial values of the parameters:", w, b )

# %%
#Ici on définit 3 prinpales fonctions: 
# our model forward pass/ la première fonction (y^t=wTxt+b)
def forward(x):
    return x.dot(w)+b

# Loss function/ fonction de perte 
def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y)**2 

print("initial loss:", np.sum([loss(x_val,y_val) for x_val, y_val in zip(x, y)]) )

# compute gradient (compute les dérivés du gradient)
def gradient(x, y):  # d_loss/d_w, d_loss/d_c
    return 2*(x.dot(w)+b - y)*x, 2 * (x.dot(w)+b - y)
 #première dérivé de la perte qui respecte w, et la second dérivé de la perte qui resptect le bias
learning_rate = 1e-2
# Training loop
for epoch in range(10): #si nous voulons un meilleur résultat il faut plus d'époch passer de 10 à 50 expl
    grad_w = np.array([0,0])
    grad_b = np.array(0)
    l = 0
    for x_val, y_val in zip(x, y):
        grad_w = np.add(grad_w,gradient(x_val, y_val)[0])
        grad_b = np.add(grad_b,gradient(x_val, y_val)[1])
        l += loss(x_val, y_val)
    w = w - learning_rate * grad_w
    b = b - learning_rate * grad_b
    print("progress:", "epoch:", epoch, "loss",l[0])

# After training
print("estimation of the parameters:", w, b) #la perte décroit , si on veut de meilleur résultat il faut plus d'epoch 

# %%
plot_views(x, y, w, b) #approximation d'équation pour le plan en 3 dim 

# %%
dtype = torch.FloatTensor
# dtype = torch.cuda.FloatTensor # Uncomment this to run on GPU

# %%
#la première chose à faire est de transférer tout de numpy vers tensor . 
x_t = torch.from_numpy(x).type(dtype)
y_t = torch.from_numpy(y).type(dtype).unsqueeze(1)

# %%
w_init_t = torch.from_numpy(w_init).type(dtype)
b_init_t = torch.from_numpy(b_init).type(dtype)
#Les fonctions loss et gradient sont appelées avec les mêmes estimations initiales (w et b)
w_t = w_init_t.clone()
w_t.unsqueeze_(1)
b_t = b_init_t.clone()
b_t.unsqueeze_(1)
print("initial values of the parameters:", w_t, b_t )

# %%
# our model forward pass
def forward_t(x):
    return x.mm(w_t)+b_t #ici seule modif (avec la fonction faite avec numpy) : on utilise non pas dot mais la matrice multiplication : mm

# Loss function
def loss_t(x, y):
    y_pred = forward_t(x) #compile les prédictions fait sur la boucle x
    return (y_pred - y).pow(2).sum() # je les compare avec les vraies valeurs : y et somme au carré de pytorch 

# compute gradient
def gradient_t(x, y):  # d_loss/d_w, d_loss/d_c
    return 2*torch.mm(torch.t(x),x.mm(w_t)+b_t - y), 2 * (x.mm(w_t)+b_t - y).sum()
#la dérivé de la perte qui respecte le poids et la dérivé de la perte qui respecte le bias
learning_rate = 1e-2
for epoch in range(10):
    l_t = loss_t(x_t,y_t)
    grad_w, grad_b = gradient_t(x_t,y_t)
    w_t = w_t-learning_rate*grad_w
    b_t = b_t-learning_rate*grad_b
    print("progress:", "epoch:", epoch, "loss",l_t)

# After training
print("estimation of the parameters:", w_t, b_t )

# %%
# Setting requires_grad=True indicates that we want to compute gradients with
# respect to these Tensors during the backward pass./on veut compiler le gradient par rapport à ses tensors durant le backward pass
#cette partie de code initialise les poids et le biais de la régression linéaire, les marque comme nécessitant le calcul des gradients,
# et affiche les valeurs initiales des paramètres. Cela prépare le modèle pour l'apprentissage et la mise à jour des poids et du biais 
#à l'aide de la rétropropagation. 
w_v = w_init_t.clone().unsqueeze(1) #on crée une copie du tenseur w_init
w_v.requires_grad_(True) #nous souhaitons calculer les gradients par rapport à ce tenseur lors de la rétropropagation (backward pass)
b_v = b_init_t.clone().unsqueeze(1) #on crée une copie du tenseur b_init
b_v.requires_grad_(True)
print("initial values of the parameters:", w_v.data, b_v.data )

# %%
for epoch in range(10):
    y_pred = x_t.mm(w_v)+b_v
    loss = (y_pred - y_t).pow(2).sum()
    
    # Use autograd to compute the backward pass. This call will compute the
    # gradient of loss with respect to all Variables with requires_grad=True.
    # After this call w.grad and b.grad will be tensors holding the gradient
    # of the loss with respect to w and b respectively.

    #on utilise l'autograd pour calculer le bacward pass.On calculera le gradient du loss par rapport 
    #à toutes les variables
    loss.backward()
    
    # Update weights using gradient descent. For this step we just want to mutate
    # the values of w_v and b_v in-place; we don't want to build up a computational
    # graph for the update steps, so we use the torch.no_grad() context manager
    # to prevent PyTorch from building a computational graph for the updates
    with torch.no_grad(): #on empèche torc de construire un graph computationnel pour les mises à jours de poids, on économise en mémoire 
        w_v -= learning_rate * w_v.grad #soustrait le produit du taux d'apprentissage (learning_rate) et du gradient de w_v à la valeur actuelle de w_v. 
        b_v -= learning_rate * b_v.grad #on fait pareil ici avec b_v
    
    # Manually zero the gradients after updating weights
    # otherwise gradients will be acumulated after each .backward()
    #ne pas oublier de remettre les gradients à zéro pour éviter que les gradients calculés lors de la mise à jour précédente 
    #ne s'accumulent avec les gradients calculés lors des prochaines itérations de la descente de gradient.
    w_v.grad.zero_()
    b_v.grad.zero_()
    
    print("progress:", "epoch:", epoch, "loss",loss.data.item())

# After training
print("estimation of the parameters:", w_v.data, b_v.data.t() )

# %%
# Use the nn package to define our model as a sequence of layers. nn.Sequential
# is a Module which contains other Modules, and applies them in sequence to
# produce its output. Each Linear Module computes output from input using a
# linear function, and holds internal Variables for its weight and bias.
model = torch.nn.Sequential(
    torch.nn.Linear(2, 1),
)

for m in model.children(): #on fait une boucle pour parcourir chaque module enfant du modèle (ici une seule couche linéaire)
    m.weight.data = w_init_t.clone().unsqueeze(0) #on initialise avec les valeurs clonées 
    m.bias.data = b_init_t.clone()

# The nn package also contains definitions of popular loss functions; in this
# case we will use Mean Squared Error (MSE) as our loss function.
loss_fn = torch.nn.MSELoss(reduction='sum') #on crée une instance (torch.nn.MSELoss) qui représente la fonction de perte 
#pour une régression linéaire basée sur la MSE.

# switch to train mode
model.train()

for epoch in range(10):
    # Forward pass: compute predicted y by passing x to the model. Module objects
    # override the __call__ operator so you can call them like functions. When
    # doing so you pass a Variable of input data to the Module and it produces
    # a Variable of output data.
    y_pred = model(x_t) #on entraine le modèle sur 10 epoch et on effectue les prédictions sur les données d'entrée (x_t)
  
    # Note this operation is equivalent to: pred = model.forward(x_v)

    # Compute and print loss. We pass Variables containing the predicted and true
    # values of y, and the loss function returns a Variable containing the
    # loss.
    loss = loss_fn(y_pred, y_t) #on calcule la perte (sachant que l'objectif de l'entrainement est de minimiser cette perte)

    # Zero the gradients before running the backward pass.
    model.zero_grad() #réinitialiser les gradients à zéro à chaque itération pour éviter l'accumulation de gradients indésirables 
    #provenant d'itérations précédentes.

    # Backward pass: compute gradient of the loss with respect to all the learnable
    # parameters of the model. Internally, the parameters of each Module are stored
    # in Variables with requires_grad=True, so this call will compute gradients for
    # all learnable parameters in the model.
    loss.backward()

    # Update the weights using gradient descent. Each parameter is a Tensor, so
    # we can access its data and gradients like we did before.
    #on met à jour les param en utilisant la méthode de descente de gradients 
    with torch.no_grad(): #opération non prise en compte dans le backward et n'affecte pas le calcul de nouveaux gradients
        for param in model.parameters():
            param.data -= learning_rate * param.grad
        
    print("progress:", "epoch:", epoch, "loss",loss.data.item())

# After training
print("estimation of the parameters:")
for param in model.parameters():
    print(param)

# %%
model = torch.nn.Sequential(
    torch.nn.Linear(2, 1),
)

for m in model.children():
    m.weight.data = w_init_t.clone().unsqueeze(0)
    m.bias.data = b_init_t.clone()

loss_fn = torch.nn.MSELoss(reduction='sum')

model.train()

optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)


for epoch in range(10):
    y_pred = model(x_t)
    loss = loss_fn(y_pred, y_t)
    print("progress:", "epoch:", epoch, "loss",loss.item())
    # Zero gradients, perform a backward pass, and update the weights.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    
    
# After training
print("estimation of the parameters:")
for param in model.parameters():
    print(param)

# %%
xb_t = torch.cat((x_t,torch.ones(30).unsqueeze(1)),1)
# for old version of pytorch
#sol, _ =torch.lstsq(y_t,xb_t)
#sol[:3]
# for pytorch 1.9 and newer
sol = torch.linalg.lstsq(xb_t,y_t)
sol.solution

# %%
x = random((300,2))
y = np.dot(x, [2., -3.]) + 1.
x_t = torch.from_numpy(x).type(dtype)
y_t = torch.from_numpy(y).type(dtype).unsqueeze(1)

# %%
model = torch.nn.Sequential(
    torch.nn.Linear(2, 1),
)

for m in model.children():
    m.weight.data = w_init_t.clone().unsqueeze(0)
    m.bias.data = b_init_t.clone()

loss_fn = torch.nn.MSELoss(reduction = 'sum')

model.train()

optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)


for epoch in range(10):
    y_pred = model(x_t)
    loss = loss_fn(y_pred, y_t)
    print("progress:", "epoch:", epoch, "loss",loss.item())
    # Zero gradients, perform a backward pass, and update the weights.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    
    
# After training
print("estimation of the parameters:")
for param in model.parameters():
    print(param)

# %%
x = np.random.random((300, 2))
y = np.dot(x, [2., -3.]) + 1
x_t = torch.from_numpy(x).type(dtype)
y_t = torch.from_numpy(y).type(dtype).unsqueeze(1)

# %%
model = torch.nn.Sequential(
    torch.nn.Linear(2, 1),
)

for m in model.children():
    m.weight.data = w_init_t.clone().unsqueeze(0)
    m.bias.data = b_init_t.clone()

loss_fn = torch.nn.MSELoss(reduction = 'sum')

model.train()

optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)


for epoch in range(10):
    y_pred = model(x_t)
    loss = loss_fn(y_pred, y_t)
    print("progress:", "epoch:", epoch, "loss",loss.item())
    # Zero gradients, perform a backward pass, and update the weights.
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    
    
# After training
print("estimation of the parameters:")
for param in model.parameters():
    print(param)

# %%
# Exercise: with 300 samples the summed loss is ten times larger and lr=1e-2 diverges; scaling the
# learning rate by 30/300 (or using reduction='mean') makes the same loop converge.
model = torch.nn.Sequential(
    torch.nn.Linear(2, 1),
)

for m in model.children():
    m.weight.data = w_init_t.clone().unsqueeze(0)
    m.bias.data = b_init_t.clone()

loss_fn = torch.nn.MSELoss(reduction = 'sum')

optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate * 30 / 300)

for epoch in range(10):
    y_pred = model(x_t)
    loss = loss_fn(y_pred, y_t)
    print("progress:", "epoch:", epoch, "loss",loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print("estimation of the parameters:")
for param in model.parameters():
    print(param)
