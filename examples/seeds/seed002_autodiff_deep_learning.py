# La différentiation automatique et un début de deep learning
# Generated from seed002_autodiff_deep_learning.ipynb (ember run runs either).

# %%
import torch

# %%
####### Complete this part ######## or die ####################
x = torch.tensor(0., requires_grad=True)
f = 3 * x + 5
f.backward()
###############################################################
print('La derivee en 0 de f est', float(x.grad))

# %%
####### Complete this part ######## or die ####################
x = torch.tensor(0., requires_grad=True)
f = 2 ** x
f.backward()
###############################################################
print('La derivee en 0 de f est', float(x.grad))

# %%
real_beta = torch.rand(size=(2, 1))*2-1

def sample_data(n):
    X = torch.rand(size=(n, 2))
    y = torch.matmul(X, real_beta) + torch.randn(size=(n, 1))
    return X, y

X, y = sample_data(10)

# %%
beta = torch.zeros(size=(2, 1), requires_grad=True)

print('Le gradient "a la main" est :\n', -2*torch.matmul(X.transpose(1, 0), y))

####### Complete this part ######## or die ####################
f = ((torch.matmul(X, beta) - y) ** 2).sum()
f.backward()
###############################################################

print('Le gradient via auto-differentiation:\n', beta.grad)

# %%
from torch.optim import SGD

class LeastSquare(object):
    def __init__(self, X, y):
        self.X = X
        self.y = y
        self.beta = None
    
    def loss(self, beta):
        errors = (torch.matmul(self.X, beta)-self.y) ** 2
        return errors.sum()/self.X.shape[0]
    
    def predict(self, x):
        if self.beta is not None:
            return torch.matmul(x, self.beta)
    
    def optimize(self, nb_iterations=40, momentum=0.0, lr=0.1):
        
        self.beta = torch.zeros(size=(2, 1), requires_grad=True).float()
        ####### Complete this part ######## or die ####################
        optimizer = SGD([self.beta], lr=lr, momentum=momentum)
        loss_values = []
        for _ in range(nb_iterations):
            optimizer.zero_grad()
            l = self.loss(self.beta)
            l.backward()
            optimizer.step()
            loss_values.append(l.item())
        ###############################################################
        return loss_values
        
loss = LeastSquare(X, y)
val_nomomentum = loss.optimize(lr=0.2)
val_momentum = loss.optimize(momentum=0.3, lr=1.)

# %%
import matplotlib
import matplotlib.pyplot as plt

# configuration generale de matplotlib
# %matplotlib inline
matplotlib.rcParams['figure.figsize'] = (12.0, 8.0)
plt.style.use('ggplot')

plt.figure()
plt.plot([i for i in range(1, len(val_nomomentum)+1)], val_nomomentum, label='No momentum')
plt.plot([i for i in range(1, len(val_momentum)+1)], val_momentum, label='Momentum')
plt.legend()
plt.show()

# %%
import torch
import torchvision
import torchvision.transforms as transforms

# %%
transform = transforms.Compose(
    [
        transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    ]
)

trainset = torchvision.datasets.CIFAR10(root='./data', train=True, download=True, transform=transform)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True, num_workers=2)

testset = torchvision.datasets.CIFAR10(root='./data', train=False, download=True, transform=transform)
testloader = torch.utils.data.DataLoader(testset, batch_size=4, shuffle=False, num_workers=2)

classes = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

# %%
import matplotlib.pyplot as plt
import numpy as np


def imshow(img):
    img = img / 2 + 0.5  # unnormalize
    npimg = img.numpy()
    plt.axis('off')
    plt.imshow(np.transpose(npimg, (1, 2, 0)))
    plt.show()


# get some random training images
dataiter = iter(trainloader)
images, labels = dataiter.next()

# show images
imshow(torchvision.utils.make_grid(images))
# print labels
print('\t'.join('%5s' % classes[labels[j]] for j in range(4)))

# %%
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()

# %%
import torch.optim as optim

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

# %%
####### Complete this part ######## or die ####################
for epoch in range(2):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 2000 == 1999:
            print('[%d, %5d] loss: %.3f' % (epoch + 1, i + 1, running_loss / 2000))
            running_loss = 0.0
###############################################################
print('Finished Training')

# %%
torch.save(net.state_dict(), 'notre_model.torch')

# %%
dataiter = iter(testloader)
images, labels = dataiter.next()

# print images
imshow(torchvision.utils.make_grid(images))
print('GroundTruth: ', ' '.join('%5s' % classes[labels[j]] for j in range(4)))

# %%
outputs = net(images)

# %%
_, predicted = torch.max(outputs, 1)

print('Predicted: ', ' '.join('%5s' % classes[predicted[j]]
                              for j in range(4)))
