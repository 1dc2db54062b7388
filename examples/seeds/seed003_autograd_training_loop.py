# Introduction à PyTorch: AutoGrad
# Generated from seed003_autograd_training_loop.ipynb (ember run runs either).

# %%
import torch

# %%
# Création du tenseur qu'on veut suivre :

x = torch.tensor([1., 2., 3.], requires_grad=True) # Rajouter requires_grad=True permet de suivre le tenseur x. On peut alors observer son gradient par rapport à d'autres tenseurs.

y = x + 2 # y est un tenseur qui dépend de x et qu'on veut suivre. Ainsi on peut observer un attribut de y, son gradient par rapport à x.

print(x)
print(y)

print(y.grad_fn) # y a été créé par une opération, on peut donc observer l'opération qui a créé y.
# L'opération en question (AddBackward) a été créée par l'addition de x et 2 et est visible à l'adresse spécifiée.

# Maintenant que se passe-t-il quand on change d'opération ?

z = y * y * 3

print(z) # On observe alors un nouveau gradient function nommé MulBackward0, créé par la multiplication de y par y par 3. 

z = z.mean()

print(z) # MeanBackward0 (encore une autre opération suivie)

# %%
print(x.grad) # On observe que le gradient de x par rapport à z est None, car on n'a pas encore fait de backward sur z.

z.backward() # On calcule le gradient de z par rapport à x.

print(x.grad) # On observe le gradient de x par rapport à z avec une application de la règle de la chaine pour remonter toutes les opérations précédentes.

# %%
# Nous allons regarder deux méthodes en particulier :

# Utilisation de 'x.require_grad_(false)' :

x = torch.randn(3, requires_grad=True)
print(x.requires_grad) # True
x.requires_grad_(False)
print(x.requires_grad) # False

# Deuxième méthode plus propre :

x = torch.randn(3, requires_grad=True)

with torch.no_grad(): # On désactive le gradient pour x.
    print((x**2).requires_grad) # False
    
# with torch.no_grad() permet de désactiver le gradient pour un bloc de code. Cela en revanche ne change pas le gradient de x mais désactive le gradient pour le bloc de code.
# Ainsi si on avait juste mis x, on aurait eu True, car x a toujours son gradient activé.

# %%
# On prend des données très simple de X et Y :

X = torch.tensor([1,2,3,4,5,6,7,8], dtype=torch.float32)
Y = torch.tensor([2,4,6,8,10,12,14,16], dtype=torch.float32) # Notre modèle va devoir prédire Y à partir de X.

W = torch.tensor(0.0, dtype = torch.float32, requires_grad=True) # On rajoute bien entendu l'autograd pour W car on veut faire une rétropropagation par la suite.

# %%
# On veut maintenant préciser les fonctions utiles à notre modèle :

# Notre modèle est très simple, il s'agit d'une fonction linéaire, donc on va juste faire une multiplication pour avoir notre sortie après une propagation.
def forward(x):
    return W * x

# On veut maintenant la fonction loss pour calculer l'erreur de notre modèle.
def loss(y, y_predicted):
    return ((y_predicted - y)**2).mean() 

# %%
# Pour l'instant on a nos paramètres à 0, on a donc un résultat de f(x) = 0 pour tout x...
# On va alors commencer l'entraînement avec la définition de nos paramètres :

learning_rate = 0.01
n_epoch = 100


for epoch in range(n_epoch):

    y_pred = forward(X) # On calcule la prédiction de notre modèle.
    
    l = loss(Y, y_pred) # On calcule la loss de notre modèle.
    
    # Maintenant que l'on a tout ça, on va pouvoir faire la rétropropagation :

    l.backward() # On calcule le gradient de l par rapport à W.

    # Vient ensuite la mise à jour des poids (sans autoGrad du coup !!!) :
    
    with torch.no_grad():
        W -= learning_rate * W.grad # On met à jour W.
        
    # On remet à 0 le gradient de W pour la prochaine itération :
    W.requires_grad_(True) # On réactive le gradient de W pour la prochaine itération.
    W.grad.zero_()
    
    # On affiche la loss à chaque 10 itérations :
    
    if (epoch+1) % 10 == 0:
        print(f'epoch {epoch+1}: w = {W:.3f}, loss = {l:.8f}')
        
# Résultat de notre entraînement :
print(f'Prediction after training: f(5) = {forward(5):.3f}')
