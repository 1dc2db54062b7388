"""The official PyTorch tutorials and recipes, continued from test_real_tutorials_b: beginner_source's transfer
learning, FGSM and DCGAN tutorials, intermediate_source's spatial transformer, neural style transfer and
torch.compile introduction, recipes_source's amp, checkpoint, utils.checkpoint, profiler and tensorboard recipes,
and the "Extending PyTorch" notes (autograd.Function with setup_context and vmap). Each runs under PyTorch and under
ember with the same seed, on small synthetic data where the tutorial downloads a dataset or weights; what it prints
and the numbers it ends with must agree. The tutorial bodies take the module as ``torch`` (and torchvision as
``tv``) so they read as the tutorials do."""
import contextlib
import io
import os
import re
import tempfile

import numpy as np
import pytest
import torch

import ember
from helpers import import_torchvision


def _printed(tutorial, T, *args):
    """What ``tutorial(T, *args)`` prints (object addresses and temporary paths masked) and what it returns."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        values = tutorial(T, *args)
    out = re.sub(r'0x[0-9a-f]+', '0x?', buf.getvalue())
    return out.replace(tempfile.gettempdir(), '<tmp>'), values


def _both(tutorial, *args, vision=False):
    """(ember's, PyTorch's) prints and values; ``vision`` passes ember.vision and torchvision after the module."""
    if vision:
        return _printed(tutorial, ember, ember.vision, *args), _printed(tutorial, torch, import_torchvision(), *args)
    return _printed(tutorial, ember, *args), _printed(tutorial, torch, *args)


def _close(got, want, rtol=1e-5, atol=1e-6):
    """Nested lists/tuples of numbers and arrays equal to rounding."""
    assert type(got) is type(want) or np.isscalar(got) or isinstance(got, np.ndarray), (type(got), type(want))
    if isinstance(got, (list, tuple)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w, rtol, atol)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _image_folder(root, rng, classes, per_class, size):
    """A torchvision ImageFolder tree of random PNGs (the tutorials' hymenoptera_data, generated)."""
    from PIL import Image
    for c in classes:
        os.makedirs(os.path.join(root, c))
        for i in range(per_class):
            pixels = rng.randint(0, 256, (size[0] + i, size[1], 3)).astype(np.uint8)
            Image.fromarray(pixels).save(os.path.join(root, c, f'{i}.png'))


def _transfer_learning(torch, tv, data_dir):
    """beginner/transfer_learning_tutorial: ImageFolder with RandomResizedCrop/flip augmentation, resnet18
    fine-tuned (SGD momentum, StepLR) saving the best weights, then as a frozen feature extractor; the
    single-image prediction of visualize_model_predictions (hymenoptera images generated, no pretrained
    weights, 64-pixel crops)."""
    from tempfile import TemporaryDirectory
    from PIL import Image
    nn, optim, lr_scheduler = torch.nn, torch.optim, torch.optim.lr_scheduler
    datasets, models, transforms = tv.datasets, tv.models, tv.transforms
    torch.manual_seed(0)
    data_transforms = {
        'train': transforms.Compose([transforms.RandomResizedCrop(64), transforms.RandomHorizontalFlip(),
                                     transforms.ToTensor(),
                                     transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]),
        'val': transforms.Compose([transforms.Resize(72), transforms.CenterCrop(64), transforms.ToTensor(),
                                   transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]),
    }
    image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x), data_transforms[x]) for x in ['train', 'val']}
    dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=True, num_workers=0)
                   for x in ['train', 'val']}
    dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}
    class_names = image_datasets['train'].classes
    print(dataset_sizes, class_names, image_datasets['train'], image_datasets['val'].class_to_idx)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    print(f"Using {device} device")
    inputs, classes = next(iter(dataloaders['train']))
    out = tv.utils.make_grid(inputs)
    inp = np.clip(np.array([0.229, 0.224, 0.225]) * out.numpy().transpose((1, 2, 0)) + np.array([0.485, 0.456, 0.406]),
                  0, 1)
    print(out.shape, [class_names[x] for x in classes], inp.sum().round(2))
    values = []

    def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
        with TemporaryDirectory() as tempdir:
            best_model_params_path = os.path.join(tempdir, 'best_model_params.pt')
            torch.save(model.state_dict(), best_model_params_path)
            best_acc = 0.0
            for epoch in range(num_epochs):
                print(f'Epoch {epoch}/{num_epochs - 1}')
                print('-' * 10)
                for phase in ['train', 'val']:
                    if phase == 'train':
                        model.train()
                    else:
                        model.eval()
                    running_loss = 0.0
                    running_corrects = 0
                    for inputs, labels in dataloaders[phase]:
                        inputs = inputs.to(device)
                        labels = labels.to(device)
                        optimizer.zero_grad()
                        with torch.set_grad_enabled(phase == 'train'):
                            outputs = model(inputs)
                            _, preds = torch.max(outputs, 1)
                            loss = criterion(outputs, labels)
                            if phase == 'train':
                                loss.backward()
                                optimizer.step()
                        running_loss += loss.item() * inputs.size(0)
                        running_corrects += torch.sum(preds == labels.data)
                    if phase == 'train':
                        scheduler.step()
                    epoch_loss = running_loss / dataset_sizes[phase]
                    epoch_acc = running_corrects.double() / dataset_sizes[phase]
                    print(f'{phase} Loss: {epoch_loss:.3f} Acc: {epoch_acc:.4f}')
                    print(running_corrects, epoch_acc, scheduler.get_last_lr())
                    values.append(epoch_loss)
                    if phase == 'val' and epoch_acc > best_acc:
                        best_acc = epoch_acc
                        torch.save(model.state_dict(), best_model_params_path)
                print()
            print(f'Best val Acc: {best_acc:4f}')
            model.load_state_dict(torch.load(best_model_params_path, weights_only=True))
        return model

    model_ft = models.resnet18(weights=None)
    num_ftrs = model_ft.fc.in_features
    model_ft.fc = nn.Linear(num_ftrs, 2)
    model_ft = model_ft.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=1, gamma=0.1)
    print(exp_lr_scheduler.state_dict())
    model_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=2)
    model_conv = tv.models.resnet18(weights=None)
    for param in model_conv.parameters():
        param.requires_grad = False
    model_conv.fc = nn.Linear(model_conv.fc.in_features, 2)
    optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.001, momentum=0.9)
    exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=7, gamma=0.1)
    model_conv = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, num_epochs=1)
    print(sum(p.numel() for p in model_conv.parameters() if p.requires_grad), model_conv.conv1.weight.grad)
    model_conv.eval()
    img = data_transforms['val'](Image.open(os.path.join(data_dir, 'val', 'bees', '1.png'))).unsqueeze(0)
    with torch.no_grad():
        outputs = model_conv(img.to(device))
        _, preds = torch.max(outputs, 1)
        print(f'Predicted: {class_names[preds[0]]}')
    return values, outputs.numpy(), model_ft.fc.weight.detach().numpy()


def test_transfer_learning_tutorial():
    data_dir = tempfile.mkdtemp()
    rng = np.random.RandomState(0)
    _image_folder(os.path.join(data_dir, 'train'), rng, ['ants', 'bees'], 4, (80, 96))
    _image_folder(os.path.join(data_dir, 'val'), rng, ['ants', 'bees'], 2, (80, 96))
    (got, gv), (want, wv) = _both(_transfer_learning, data_dir, vision=True)
    assert got == want
    # batch-4 BatchNorm over 2x2 maps in resnet18's last stage amplifies float32 rounding about 1e3 times
    _close(gv, wv, rtol=1e-3, atol=1e-4)


def _spatial_transformer(torch, tv):
    """intermediate/spatial_transformer_tutorial: the localisation net predicting theta, affine_grid +
    grid_sample, trained two epochs with nll_loss (size_average=False in test), and visualize_stn's grids
    (MNIST as FakeData of its shape); then affine_grid/grid_sample over their modes and the 3-D grid."""
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    torch.manual_seed(0)
    device = torch.device("cpu")
    tf = tv.transforms.Compose([tv.transforms.ToTensor(), tv.transforms.Normalize((0.1307,), (0.3081,))])
    train_loader = torch.utils.data.DataLoader(tv.datasets.FakeData(48, (1, 28, 28), 10, transform=tf),
                                               batch_size=16, shuffle=True, num_workers=0)
    test_loader = torch.utils.data.DataLoader(tv.datasets.FakeData(32, (1, 28, 28), 10, transform=tf, random_offset=5),
                                              batch_size=16, shuffle=True, num_workers=0)

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop = nn.Dropout2d()
            self.fc1 = nn.Linear(320, 50)
            self.fc2 = nn.Linear(50, 10)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 10 * 3 * 3)
            theta = self.fc_loc(xs)
            theta = theta.view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size())
            x = F.grid_sample(x, grid)
            return x

        def forward(self, x):
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            x = F.dropout(x, training=self.training)
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)
    model = Net().to(device)
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(1, 3):
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.5f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset), 100. * batch_idx / len(train_loader),
                loss.item()))
        with torch.no_grad():
            model.eval()
            test_loss = 0
            correct = 0
            for data, target in test_loader:
                output = model(data)
                with pytest.warns(UserWarning, match='size_average and reduce args will be deprecated'):
                    test_loss += F.nll_loss(output, target, size_average=False).item()
                pred = output.max(1, keepdim=True)[1]
                correct += pred.eq(target.view_as(pred)).sum().item()
            test_loss /= len(test_loader.dataset)
            print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
                test_loss, correct, len(test_loader.dataset), 100. * correct / len(test_loader.dataset)))

    def convert_image_np(inp):
        inp = inp.numpy().transpose((1, 2, 0))
        inp = np.array([0.229, 0.224, 0.225]) * inp + np.array([0.485, 0.456, 0.406])
        return np.clip(inp, 0, 1)
    with torch.no_grad():
        data = next(iter(test_loader))[0].to(device)
        transformed_input_tensor = model.stn(data).cpu()
        in_grid = convert_image_np(tv.utils.make_grid(data.cpu()))
        out_grid = convert_image_np(tv.utils.make_grid(transformed_input_tensor))
    print(in_grid.shape, out_grid.shape)
    values = [in_grid, out_grid]
    theta = torch.tensor([[[0.8, 0.2, 0.1], [-0.1, 0.9, 0.05]]], requires_grad=True)
    x = torch.randn(1, 2, 5, 6, requires_grad=True)
    for align_corners in (False, True):
        for mode in ('bilinear', 'nearest', 'bicubic'):
            for padding_mode in ('zeros', 'border', 'reflection'):
                g = F.affine_grid(theta, x.size(), align_corners=align_corners)
                y = F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
                y.pow(2).sum().backward()
                print(mode, padding_mode, y.grad_fn, g.grad_fn)
                values += [y.detach().numpy(), theta.grad.numpy(), x.grad.numpy()]
                theta.grad = x.grad = None
    values.append(F.affine_grid(torch.eye(3, 4)[None], (1, 1, 2, 3, 2), align_corners=False).numpy())
    return values


def test_spatial_transformer_tutorial():
    (got, gv), (want, wv) = _both(_spatial_transformer, vision=True)
    assert got == want
    _close(gv, wv, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic'])
def test_spatial_transformer_gradients_match_finite_differences(mode):
    """The STN's sampler (affine_grid then grid_sample) differentiated in theta and the image, float64."""
    F = ember.nn.functional
    rng = np.random.RandomState(1)
    theta = ember.tensor(np.array([[[0.8, 0.2, 0.1], [-0.1, 0.9, 0.05]]]) + rng.rand(1, 2, 3) * 0.1,
                         requires_grad=True)
    x = ember.tensor(rng.randn(1, 2, 4, 5), requires_grad=True)

    def stn(theta, x):
        return F.grid_sample(x, F.affine_grid(theta, x.size(), align_corners=False), mode=mode,
                             padding_mode='border', align_corners=False)
    assert ember.autograd.gradcheck(stn, (theta, x))


def _fgsm(torch, tv):
    """beginner/fgsm_tutorial: LeNet in eval mode (its saved weights reloaded with map_location), fgsm_attack
    on the input gradient, denorm and Normalize again, accuracy per epsilon and the adversarial examples kept
    (MNIST replaced by random images labelled by the model, a third of them mislabelled)."""
    nn, F, transforms = torch.nn, torch.nn.functional, tv.transforms
    torch.manual_seed(0)
    device = torch.device("cpu")
    epsilons = [0, .05, .1, .15, .2, .25, .3]

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv2(F.relu(self.conv1(x))))
            x = self.dropout1(F.max_pool2d(x, 2))
            x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
            return F.log_softmax(self.fc2(x), dim=1)
    model = Net().to(device)
    print(model)
    pretrained_model = os.path.join(tempfile.mkdtemp(), 'lenet_mnist_model.pth')
    torch.save(model.state_dict(), pretrained_model)
    model.load_state_dict(torch.load(pretrained_model, map_location=device, weights_only=True))
    model.eval()

    def fgsm_attack(image, epsilon, data_grad):
        sign_data_grad = data_grad.sign()
        perturbed_image = image + epsilon * sign_data_grad
        perturbed_image = torch.clamp(perturbed_image, 0, 1)
        return perturbed_image

    def denorm(batch, mean=[0.1307], std=[0.3081]):
        if isinstance(mean, list):
            mean = torch.tensor(mean).to(device)
        if isinstance(std, list):
            std = torch.tensor(std).to(device)
        return batch * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)
    xs = transforms.Normalize((0.1307,), (0.3081,))(torch.rand(9, 1, 28, 28))
    with torch.no_grad():
        ys = model(xs).argmax(1)
    ys[::3] = (ys[::3] + 1) % 10
    test_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, ys), batch_size=1, shuffle=True)

    def test(model, device, test_loader, epsilon):
        correct = 0
        adv_examples = []
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            data.requires_grad = True
            output = model(data)
            init_pred = output.max(1, keepdim=True)[1]
            if init_pred.item() != target.item():
                continue
            loss = F.nll_loss(output, target)
            model.zero_grad()
            loss.backward()
            data_grad = data.grad.data
            data_denorm = denorm(data)
            perturbed_data = fgsm_attack(data_denorm, epsilon, data_grad)
            perturbed_data_normalized = transforms.Normalize((0.1307,), (0.3081,))(perturbed_data)
            output = model(perturbed_data_normalized)
            final_pred = output.max(1, keepdim=True)[1]
            if final_pred.item() == target.item():
                correct += 1
                if epsilon == 0 and len(adv_examples) < 5:
                    adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                    adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
            else:
                if len(adv_examples) < 5:
                    adv_ex = perturbed_data.squeeze().detach().cpu().numpy()
                    adv_examples.append((init_pred.item(), final_pred.item(), adv_ex))
        final_acc = correct / float(len(test_loader))
        print(f"Epsilon: {epsilon}\tTest Accuracy = {correct} / {len(test_loader)} = {final_acc}")
        return final_acc, adv_examples
    accuracies = []
    examples = []
    for eps in epsilons:
        acc, ex = test(model, device, test_loader, eps)
        accuracies.append(acc)
        examples.append(ex)
    print(accuracies, [[(a, b, c.shape) for a, b, c in e] for e in examples])
    return [c for e in examples for _, _, c in e]


def test_fgsm_tutorial():
    (got, gv), (want, wv) = _both(_fgsm, vision=True)
    assert got == want
    _close(gv, wv)


def _dcgan(torch, tv):
    """beginner/dcgan_faces_tutorial: Generator and Discriminator initialised by weights_init, BCELoss, Adam with
    beta1 0.5, two epochs of the alternating updates and make_grid of the fixed noise's fakes (CelebA as FakeData,
    the widths scaled down)."""
    import random
    nn, optim, vutils, transforms = torch.nn, torch.optim, tv.utils, tv.transforms
    random.seed(999)
    torch.manual_seed(999)
    batch_size, image_size, nc, nz, ngf, ndf, lr, beta1, ngpu = 4, 64, 3, 8, 4, 4, 0.0002, 0.5, 0
    dataset = tv.datasets.FakeData(8, (3, 80, 80), 2, transform=transforms.Compose([
        transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor(),
        transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0)
    device = torch.device("cpu")
    real_batch = next(iter(dataloader))
    grid = vutils.make_grid(real_batch[0].to(device)[:64], padding=2, normalize=True)
    print(grid.shape, np.transpose(grid, (1, 2, 0)).shape)

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

        def forward(self, input):
            return self.main(input)

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

        def forward(self, input):
            return self.main(input)
    netG = Generator(ngpu).to(device)
    netG.apply(weights_init)
    netD = Discriminator(ngpu).to(device)
    netD.apply(weights_init)
    print(netG, netD)
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(64, nz, 1, 1, device=device)
    real_label, fake_label = 1., 0.
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    G_losses, D_losses = [], []
    for epoch in range(2):
        for i, data in enumerate(dataloader, 0):
            netD.zero_grad()
            real_cpu = data[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()
            noise = torch.randn(b_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real + errD_fake
            optimizerD.step()
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()
            print('[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f'
                  % (epoch, 2, i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
            G_losses.append(errG.item())
            D_losses.append(errD.item())
    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    img = vutils.make_grid(fake, padding=2, normalize=True)
    print(img.shape, errG.grad_fn)
    return G_losses, D_losses, img.numpy()


def test_dcgan_tutorial():
    (got, gv), (want, wv) = _both(_dcgan, vision=True)
    assert got == want
    _close(gv, wv, rtol=1e-4, atol=1e-5)


def _neural_style(torch, tv, dtype):
    """advanced/neural_style_tutorial: ContentLoss/StyleLoss modules with gram_matrix inserted after vgg19's
    convolutions (its first 12 feature layers, untrained), Normalization, and LBFGS on the input image with a
    closure that clamps it (images generated, 16 pixels, 20 steps; ``dtype`` 'float' as in the tutorial, or
    'double')."""
    import copy  # noqa: F401 (the tutorial's imports)
    from PIL import Image
    nn, F, optim, transforms = torch.nn, torch.nn.functional, torch.optim, tv.transforms
    device = torch.device("cpu")
    torch.set_default_device(device)
    torch.manual_seed(0)
    loader = transforms.Compose([transforms.Resize(16), transforms.ToTensor()])
    rng = np.random.RandomState(0)

    def image_loader(image_name):
        image = Image.fromarray(rng.randint(0, 256, (20, 20, 3)).astype(np.uint8))
        image = loader(image).unsqueeze(0)
        return image.to(device, getattr(torch, dtype))
    style_img = image_loader("./data/images/neural-style/picasso.jpg")
    content_img = image_loader("./data/images/neural-style/dancing.jpg")
    assert style_img.size() == content_img.size(), "we need to import style and content images of the same size"
    image = transforms.ToPILImage()(style_img.cpu().clone().squeeze(0))
    print(image.size, image.mode, np.asarray(image).sum())

    class ContentLoss(nn.Module):
        def __init__(self, target,):
            super(ContentLoss, self).__init__()
            self.target = target.detach()

        def forward(self, input):
            self.loss = F.mse_loss(input, self.target)
            return input

    def gram_matrix(input):
        a, b, c, d = input.size()
        features = input.view(a * b, c * d)
        G = torch.mm(features, features.t())
        return G.div(a * b * c * d)

    class StyleLoss(nn.Module):
        def __init__(self, target_feature):
            super(StyleLoss, self).__init__()
            self.target = gram_matrix(target_feature).detach()

        def forward(self, input):
            G = gram_matrix(input)
            self.loss = F.mse_loss(G, self.target)
            return input
    cnn = tv.models.vgg19(weights=None).features.eval()[:12].to(getattr(torch, dtype))
    cnn_normalization_mean = torch.tensor([0.485, 0.456, 0.406], dtype=getattr(torch, dtype))
    cnn_normalization_std = torch.tensor([0.229, 0.224, 0.225], dtype=getattr(torch, dtype))

    class Normalization(nn.Module):
        def __init__(self, mean, std):
            super(Normalization, self).__init__()
            self.mean = mean.clone().detach().view(-1, 1, 1)
            self.std = std.clone().detach().view(-1, 1, 1)

        def forward(self, img):
            return (img - self.mean) / self.std

    def get_style_model_and_losses(cnn, normalization_mean, normalization_std, style_img, content_img,
                                   content_layers=('conv_4',), style_layers=('conv_1', 'conv_2', 'conv_3', 'conv_4',
                                                                               'conv_5')):
        normalization = Normalization(normalization_mean, normalization_std)
        content_losses = []
        style_losses = []
        model = nn.Sequential(normalization)
        i = 0
        for layer in cnn.children():
            if isinstance(layer, nn.Conv2d):
                i += 1
                name = 'conv_{}'.format(i)
            elif isinstance(layer, nn.ReLU):
                name = 'relu_{}'.format(i)
                layer = nn.ReLU(inplace=False)
            elif isinstance(layer, nn.MaxPool2d):
                name = 'pool_{}'.format(i)
            elif isinstance(layer, nn.BatchNorm2d):
                name = 'bn_{}'.format(i)
            else:
                raise RuntimeError('Unrecognized layer: {}'.format(layer.__class__.__name__))
            model.add_module(name, layer)
            if name in content_layers:
                target = model(content_img).detach()
                content_loss = ContentLoss(target)
                model.add_module("content_loss_{}".format(i), content_loss)
                content_losses.append(content_loss)
            if name in style_layers:
                target_feature = model(style_img).detach()
                style_loss = StyleLoss(target_feature)
                model.add_module("style_loss_{}".format(i), style_loss)
                style_losses.append(style_loss)
        for i in range(len(model) - 1, -1, -1):
            if isinstance(model[i], ContentLoss) or isinstance(model[i], StyleLoss):
                break
        model = model[:(i + 1)]
        return model, style_losses, content_losses
    input_img = content_img.clone()
    scores = []

    def run_style_transfer(cnn, normalization_mean, normalization_std, content_img, style_img, input_img,
                           num_steps=300, style_weight=1000000, content_weight=1):
        print('Building the style transfer model..')
        model, style_losses, content_losses = get_style_model_and_losses(cnn, normalization_mean, normalization_std,
                                                                         style_img, content_img)
        print(model)
        input_img.requires_grad_(True)
        model.eval()
        model.requires_grad_(False)
        optimizer = optim.LBFGS([input_img])
        print('Optimizing..')
        run = [0]
        while run[0] <= num_steps:
            def closure():
                with torch.no_grad():
                    input_img.clamp_(0, 1)
                optimizer.zero_grad()
                model(input_img)
                style_score = 0
                content_score = 0
                for sl in style_losses:
                    style_score += sl.loss
                for cl in content_losses:
                    content_score += cl.loss
                style_score *= style_weight
                content_score *= content_weight
                loss = style_score + content_score
                loss.backward()
                run[0] += 1
                scores.append((style_score.item(), content_score.item()))
                if run[0] % 10 == 0:
                    print("run {}:".format(run), style_score.grad_fn, content_score.grad_fn)
                return style_score + content_score
            optimizer.step(closure)
        with torch.no_grad():
            input_img.clamp_(0, 1)
        print(optimizer.state_dict()['param_groups'], sorted(optimizer.state_dict()['state'][0]))
        return input_img
    output = run_style_transfer(cnn, cnn_normalization_mean, cnn_normalization_std, content_img, style_img, input_img,
                                num_steps=20)
    print(output.shape, output.requires_grad, output.is_leaf)
    torch.set_default_device(None)
    return scores, output.detach().numpy()


def test_neural_style_tutorial():
    """In float64: with an untrained VGG the losses are ~1e-2 and LBFGS's later steps amplify float32 rounding,
    while in float64 the two follow the same trajectory to the end (line searches included)."""
    (got, gv), (want, wv) = _both(_neural_style, 'double', vision=True)
    assert got == want
    _close(gv, wv, rtol=1e-9, atol=1e-12)


def _compile_intro(torch):
    """intermediate/torch_compile_tutorial: torch.compile on a function, as a decorator, on nested calls, a
    module's .compile() and torch.compile(module) (the OptimizedModule wrapper and its _orig_mod state_dict
    keys), graph breaks on data-dependent control flow, the modes/backends/options, torch.compiler's and
    torch._dynamo's helpers, symbolic_trace's refusal of that control flow, and a compiled training step. Returns
    (compiled, eager) pairs: PyTorch's inductor may round differently; ember's compile is the identity."""
    torch.manual_seed(0)
    pairs = []

    def foo(x, y):
        a = torch.sin(x)
        b = torch.cos(y)
        return a + b
    opt_foo1 = torch.compile(foo)
    x, y = torch.randn(3, 3), torch.randn(3, 3)
    pairs.append((opt_foo1(x, y), foo(x, y)))

    @torch.compile
    def opt_foo2(x, y):
        a = torch.sin(x)
        b = torch.cos(y)
        return a + b
    pairs.append((opt_foo2(x, y), foo(x, y)))

    def inner(x):
        return torch.sin(x)

    @torch.compile
    def outer(x, y):
        return inner(x) + torch.cos(y)
    pairs.append((outer(x, y), foo(x, y)))
    t = torch.randn(2, 6)

    class MyModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(6, 3)

        def forward(self, x):
            return torch.nn.functional.relu(self.lin(x))
    mod = MyModule()
    eager = mod(t)
    mod.compile()
    pairs.append((mod(t), eager))
    print(mod, type(mod).__name__)
    mod2 = MyModule()
    opt_mod = torch.compile(mod2)
    pairs.append((opt_mod(t), mod2(t)))
    print(type(opt_mod).__name__, opt_mod, opt_mod._orig_mod is mod2, list(opt_mod.state_dict()),
          opt_mod.lin is mod2.lin, [n for n, _ in opt_mod.named_parameters()])

    def bar(a, b):
        x = a / (torch.abs(a) + 1)
        if b.sum() < 0:
            b = b * -1
        return x * b
    opt_bar = torch.compile(bar)
    inp1, inp2 = torch.ones(4), torch.ones(4)
    pairs += [(opt_bar(inp1, inp2), bar(inp1, inp2)), (opt_bar(inp1, -inp2), bar(inp1, -inp2))]
    for kw in ({'mode': 'reduce-overhead'}, {'mode': 'max-autotune'}, {'backend': 'eager'}, {'backend': 'aot_eager'},
               {'fullgraph': True}, {'dynamic': True}, {'options': {'trace.enabled': False}},
               {'mode': 'default', 'disable': True}):
        pairs.append((torch.compile(foo, **kw)(x, y), foo(x, y)))
    for kw in ({'mode': 'fastest'}, {'backend': 'nonexistent'}, {'mode': 'default', 'options': {}}):
        try:
            torch.compile(foo, **kw)
        except RuntimeError as e:
            print(type(e).__name__, e)
    print(torch._dynamo.list_backends(), torch.compiler.list_backends(), torch.compiler.list_backends(('debug',)))
    torch._dynamo.reset()
    torch.compiler.reset()
    print(torch.compiler.is_compiling(), torch.compiler.is_dynamo_compiling(), torch.compiler.is_exporting(),
          torch._dynamo.is_compiling())

    @torch.compiler.disable
    def dis(x):
        return x + 1

    @torch.compiler.disable(recursive=False)
    def dis2(x):
        return x + 2
    print(dis(x).sum().item() == (x + 1).sum().item(), dis2(x).shape,
          torch.compiler.assume_constant_result(inner) is inner)

    def f1(x, y):
        if x.sum() < 0:
            return -y
        return y
    try:
        torch.fx.symbolic_trace(f1)
    except Exception as e:
        print(type(e).__name__, e)
    opt_f1 = torch.compile(f1)
    pairs += [(opt_f1(x, y), f1(x, y)), (opt_f1(-x, y), f1(-x, y))]
    model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    compiled = torch.compile(model)
    for i in range(3):
        opt.zero_grad()
        loss = compiled(t).sum()
        loss.backward()
        opt.step()
        pairs.append((loss.detach(), loss.detach()))
    pairs.append((model[0].weight.detach(), model[0].weight.detach()))
    return [(c.detach().numpy(), e.detach().numpy()) for c, e in pairs]


def test_torch_compile_tutorial():
    (got, gv), (want, wv) = _both(_compile_intro)
    assert got == want
    for (c, e), (tc, te) in zip(gv, wv):
        np.testing.assert_array_equal(c, e)     # ember compiles nothing: the outputs are the eager ones
        np.testing.assert_allclose(c, tc, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(te, tc, rtol=1e-5, atol=1e-6)


def _checkpoint_recipes(torch):
    """recipes/saving_multiple_models_in_one_file (two nets and their optimizers in one dict, loaded back in
    eval and train mode) and the torch.utils.checkpoint recipe: checkpoint with use_reentrant False and True
    (dropout replayed with the same random numbers), checkpoint_sequential, inputs without requires_grad, and
    the warning when use_reentrant is not given."""
    import warnings
    nn, F, optim = torch.nn, torch.nn.functional, torch.optim
    checkpoint, checkpoint_sequential = torch.utils.checkpoint.checkpoint, torch.utils.checkpoint.checkpoint_sequential
    torch.manual_seed(0)

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
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
    netA, netB = Net(), Net()
    optimizerA = optim.SGD(netA.parameters(), lr=0.001, momentum=0.9)
    optimizerB = optim.SGD(netB.parameters(), lr=0.001, momentum=0.9)
    x = torch.randn(2, 3, 32, 32)
    for opt, net in ((optimizerA, netA), (optimizerB, netB)):
        net(x).sum().backward()
        opt.step()
    PATH = os.path.join(tempfile.mkdtemp(), "model.pt")
    torch.save({'modelA_state_dict': netA.state_dict(), 'modelB_state_dict': netB.state_dict(),
                'optimizerA_state_dict': optimizerA.state_dict(), 'optimizerB_state_dict': optimizerB.state_dict()},
               PATH)
    modelA, modelB = Net(), Net()
    optimModelA = optim.SGD(modelA.parameters(), lr=0.001, momentum=0.9)
    optimModelB = optim.SGD(modelB.parameters(), lr=0.001, momentum=0.9)
    checkpoint_dict = torch.load(PATH, weights_only=True)
    print(modelA.load_state_dict(checkpoint_dict['modelA_state_dict']))
    modelB.load_state_dict(checkpoint_dict['modelB_state_dict'])
    optimModelA.load_state_dict(checkpoint_dict['optimizerA_state_dict'])
    optimModelB.load_state_dict(checkpoint_dict['optimizerB_state_dict'])
    modelA.eval()
    modelB.train()
    print(sorted(checkpoint_dict), optimModelA.state_dict()['param_groups'], modelB.training, modelA.training,
          torch.equal(modelA(x), netA(x)))
    values = [optimModelB.state[modelB.fc3.bias]['momentum_buffer']]

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.l2, self.drop = nn.Linear(8, 8), nn.Linear(8, 8), nn.Dropout(0.3)

        def block(self, x):
            return self.drop(torch.tanh(self.l1(x)))

        def forward(self, x):
            return self.l2(checkpoint(self.block, x, use_reentrant=False))
    m = M()
    inp = torch.randn(4, 8, requires_grad=True)
    out = m(inp)
    print(out.grad_fn, out.grad_fn.next_functions)
    out.sum().backward()
    values += [out, inp.grad, m.l1.weight.grad]
    m.zero_grad()
    inp.grad = None
    out = checkpoint(m.block, inp, use_reentrant=True)
    print(out.grad_fn)
    out.sum().backward()
    values += [out, inp.grad, m.l1.weight.grad]
    seq = nn.Sequential(*[nn.Linear(8, 8) for _ in range(4)])
    y = checkpoint_sequential(seq, 2, inp, use_reentrant=False)
    y.pow(2).sum().backward()
    values += [y, seq[0].weight.grad]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        print(checkpoint(m.block, torch.randn(4, 8), use_reentrant=True).requires_grad)
        checkpoint(m.block, inp)
    print([str(w.message) for w in caught])
    return [v.detach().numpy() for v in values]


def test_checkpoint_recipes():
    (got, gv), (want, wv) = _both(_checkpoint_recipes)
    assert got == want
    _close(gv, wv)


def _extending_autograd(torch):
    """notes/extending (and intermediate/custom_function_* / extending torch.func): LinearFunction and
    MulConstant with forward/setup_context/backward and needs_input_grad, checked by gradcheck with a None
    bias; MyCube with two outputs and a vmap staticmethod through func.grad/vmap/jacrev and gradgradcheck; an
    Exp with generate_vmap_rule; the custom Linear module with extra_repr."""
    nn = torch.nn
    Function, gradcheck = torch.autograd.Function, torch.autograd.gradcheck
    torch.manual_seed(0)

    class LinearFunction(Function):
        @staticmethod
        def forward(input, weight, bias):
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias
    linear = LinearFunction.apply

    class MulConstant(Function):
        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            tensor, constant = inputs
            ctx.constant = constant

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.constant, None

    class MyCube(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3, 3 * x ** 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, = inputs
            result, dx = output
            ctx.save_for_backward(x, dx)

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

        @staticmethod
        def vmap(info, in_dims, x):
            return MyCube.apply(x), (in_dims[0], in_dims[0])

    def my_cube(x):
        result, dx = MyCube.apply(x)
        return result
    input = (torch.randn(6, 5, dtype=torch.double, requires_grad=True),
             torch.randn(4, 5, dtype=torch.double, requires_grad=True), None)
    print(gradcheck(linear, input, eps=1e-6, atol=1e-4))
    x, w = torch.randn(3, 4, requires_grad=True), torch.randn(5, 4, requires_grad=True)
    b = torch.randn(5, requires_grad=True)
    y = linear(x, w, b)
    print(y.grad_fn.name(), MulConstant.apply(x, 3.0).grad_fn.name())
    y.sum().backward()
    values = [y, x.grad, w.grad, b.grad, torch.autograd.grad(MulConstant.apply(x, 3.0).sum(), x)[0]]
    xc = torch.randn(3, dtype=torch.double, requires_grad=True)
    values += [torch.func.grad(lambda t: my_cube(t).sum())(xc), torch.func.vmap(my_cube)(xc.detach()),
               torch.func.jacrev(my_cube)(xc)]
    print(torch.autograd.gradgradcheck(my_cube, (xc,)), torch.autograd.gradcheck(my_cube, (xc,)))

    class Exp(Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            result, = ctx.saved_tensors
            return g * result
    values += [torch.func.vmap(Exp.apply)(torch.randn(2, 3)),
               torch.func.vmap(torch.func.grad(lambda t: Exp.apply(t).sum()))(torch.randn(2, 3))]

    class Linear(nn.Module):
        def __init__(self, input_features, output_features, bias=True):
            super().__init__()
            self.input_features = input_features
            self.output_features = output_features
            self.weight = nn.Parameter(torch.empty(output_features, input_features))
            if bias:
                self.bias = nn.Parameter(torch.empty(output_features))
            else:
                self.register_parameter('bias', None)
            nn.init.uniform_(self.weight, -0.1, 0.1)
            if self.bias is not None:
                nn.init.uniform_(self.bias, -0.1, 0.1)

        def forward(self, input):
            return LinearFunction.apply(input, self.weight, self.bias)

        def extra_repr(self):
            return 'input_features={}, output_features={}, bias={}'.format(
                self.input_features, self.output_features, self.bias is not None)
    m = Linear(4, 3)
    print(m, Linear(4, 2, bias=False), m(x).grad_fn.name())
    values.append(m(x))
    return [v.detach().numpy() for v in values]


def test_extending_autograd_function():
    (got, gv), (want, wv) = _both(_extending_autograd)
    assert got == want
    _close(gv, wv)


def test_gradcheck_passes_non_tensor_arguments_through():
    """gradcheck/gradgradcheck skip None and number arguments (the extending note's None bias); gradgradcheck
    draws its grad outputs from the global generator as PyTorch's does."""
    for T in (ember, torch):
        T.manual_seed(0)
    x = np.random.RandomState(0).randn(3, 2)

    def run(T):
        xt = T.tensor(x, requires_grad=True)
        ok = (T.autograd.gradcheck(lambda a, s, b: a * s if b is None else a, (xt, 2.5, None)),
              T.autograd.gradgradcheck(lambda a, s: (a * s).sin(), (xt, 2.0)))
        return ok, T.rand(2).numpy()
    (g_ok, g_next), (w_ok, w_next) = run(ember), run(torch)
    assert g_ok == w_ok == (True, True)
    np.testing.assert_array_equal(g_next, w_next)


def _amp_recipe(torch):
    """recipes/recipes/amp_recipe on the CPU (bfloat16): the autocast training loop, GradScaler (enabled, with
    unscale_ and gradient clipping) and its state_dict in a checkpoint, nested autocast regions, the ops autocast
    runs in bfloat16 or float32, autocast as a decorator, and a custom Function under custom_fwd/custom_bwd."""
    torch.manual_seed(0)

    def make_model(in_size, out_size, num_layers):
        layers = []
        for _ in range(num_layers - 1):
            layers.append(torch.nn.Linear(in_size, in_size))
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(in_size, out_size))
        return torch.nn.Sequential(*tuple(layers))
    batch_size, in_size, out_size, num_layers, num_batches, epochs = 8, 16, 4, 3, 3, 2
    device = 'cpu'
    data = [torch.randn(batch_size, in_size, device=device) for _ in range(num_batches)]
    targets = [torch.randn(batch_size, out_size, device=device) for _ in range(num_batches)]
    loss_fn = torch.nn.MSELoss().to(device)
    net = make_model(in_size, out_size, num_layers)
    opt = torch.optim.SGD(net.parameters(), lr=0.001)
    values = []
    for epoch in range(epochs):
        for input, target in zip(data, targets):
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                output = net(input)
                assert output.dtype is torch.bfloat16
                loss = loss_fn(output, target)
                assert loss.dtype is torch.float32
            loss.backward()
            opt.step()
            opt.zero_grad()
            values.append(loss.item())
        print(epoch, output.dtype, output.grad_fn, loss.grad_fn, loss.grad_fn.next_functions)
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    print(scaler.is_enabled(), scaler.get_scale())
    for epoch in range(epochs):
        for input, target in zip(data, targets):
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=True):
                output = net(input)
                loss = loss_fn(output, target)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.1)
            scaler.step(opt)
            scaler.update()
            opt.zero_grad(set_to_none=True)
            values.append(loss.item())
        print(epoch, scaler.get_scale(), scaler.state_dict())
    checkpoint = {"model": net.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict()}
    scaler.load_state_dict(checkpoint["scaler"])
    values += [p.detach().float().numpy() for p in net.parameters()]
    a, b, c, d = torch.rand(4, 4), torch.rand(4, 4), torch.rand(4, 4), torch.rand(4, 4)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        e_float16 = torch.mm(a, b)
        with torch.autocast(device_type="cpu", enabled=False):
            f_float32 = torch.mm(c, e_float16.float())
        g_float16 = torch.mm(d, f_float32)
        print(e_float16.dtype, f_float32.dtype, g_float16.dtype, torch.is_autocast_enabled(),
              torch.is_autocast_enabled('cpu'), torch.get_autocast_dtype('cpu'))
        print(torch.softmax(e_float16, 0).dtype, torch.nn.functional.layer_norm(e_float16, (4,)).dtype,
              (e_float16 + a).dtype, torch.conv1d(a[None], b[:, :, None]).dtype, e_float16.sum().dtype,
              torch.nn.functional.mse_loss(e_float16, a).dtype, torch.exp(e_float16).dtype,
              torch.bmm(a[None], b[None]).dtype)
    values += [e_float16.float().numpy(), f_float32.numpy(), g_float16.float().numpy()]

    @torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    def fw(x, y):
        return x @ y
    print(fw(a, b).dtype, torch.is_autocast_enabled())

    class MyMM(torch.autograd.Function):
        @staticmethod
        @torch.amp.custom_fwd(device_type='cpu')
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a.mm(b)

        @staticmethod
        @torch.amp.custom_bwd(device_type='cpu')
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad.mm(b.t()), a.t().mm(grad)
    x = torch.rand(3, 3, requires_grad=True)
    with torch.autocast('cpu'):
        r = MyMM.apply(x, x)
        y = x.mm(x)
    print(r.dtype, r.grad_fn, y.grad_fn.next_functions)
    r.float().sum().backward()
    print(x.grad.dtype)
    values.append(x.grad.numpy())
    x.grad = None
    y.float().sum().backward()
    values.append(x.grad.numpy())
    return values


def test_amp_recipe_on_cpu():
    (got, gv), (want, wv) = _both(_amp_recipe)
    assert got == want
    n = 4 * 3 + 4 * 3 // 2   # the losses and parameters after bfloat16 training: bfloat16's precision
    _close(gv[:n], wv[:n], rtol=2e-2, atol=1e-3)
    _close(gv[n:], wv[n:], rtol=1e-6, atol=1e-7)


def test_bfloat16_gradients_of_one_tensor_sum_as_pytorch():
    """Two bfloat16 gradients reaching one node are rounded and summed in bfloat16 (x.mm(x): both edges meet at
    x's cast under autocast, or at x itself); a custom Function's bfloat16 gradients are cast to the float32
    input's dtype before they are summed, as PyTorch's engine casts each gradient to its input's dtype."""
    def run(T):
        T.manual_seed(0)
        x = T.rand(5, 5)
        xb = x.bfloat16().requires_grad_()
        g = T.autograd.grad(xb.mm(xb), xb, T.ones(5, 5, dtype=T.bfloat16))[0]

        class Twice(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a * b

            @staticmethod
            def backward(ctx, grad):
                a, b = ctx.saved_tensors
                return (grad * b * 1.3).bfloat16(), (grad * a * 1.7).bfloat16()
        xf = x.clone().requires_grad_()
        Twice.apply(xf, xf).sum().backward()
        return g.float().numpy(), xf.grad.numpy(), xf.grad.dtype is T.float32
    got, want = run(ember), run(torch)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] and want[2]


def _profiler_recipe(torch, tv):
    """recipes/recipes/profiler_recipe on resnet18 (in eval mode, 32-pixel inputs): record_function around the
    inference, key_averages().table sorted by CPU time and grouped by input shape, profile_memory's columns and
    the memory each layer's op allocates, the Chrome trace export, and a schedule with on_trace_ready. Timings
    differ, so what is compared is the events' names, counts and input shapes and the tables' columns."""
    import collections
    import json
    profile, record_function, ProfilerActivity = torch.profiler.profile, torch.profiler.record_function, \
        torch.profiler.ProfilerActivity
    torch.manual_seed(0)
    model = tv.models.resnet18().eval()
    inputs = torch.randn(2, 3, 32, 32)

    def top_level(prof):
        return [e for e in prof.events() if e.cpu_parent is not None and e.cpu_parent.name == 'model_inference']

    def columns(table, line=1):
        return [c.strip() for c in re.split(r'\s{2,}', table.splitlines()[line].strip())]
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    top = top_level(prof)
    print(sorted(collections.Counter(e.name for e in top).items()))
    print(sorted({(e.name, str(e.input_shapes)) for e in top}))
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    print(columns(table), len(table.splitlines()), table.splitlines()[-1].split(':')[0])
    table = prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=5)
    print(columns(table), len(table.splitlines()))
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True) as prof:
        with record_function("model_inference"):
            model(inputs)
    print(sorted({(e.name, str(e.input_shapes), e.cpu_memory_usage) for e in top_level(prof)
                  if e.name in ('aten::conv2d', 'aten::linear', 'aten::adaptive_avg_pool2d', 'aten::add_')}))
    print(columns(prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=5)),
          columns(prof.key_averages().table(sort_by="cpu_memory_usage", row_limit=5)))
    path = os.path.join(tempfile.mkdtemp(), "trace.json")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model(inputs)
    prof.export_chrome_trace(path)
    with open(path) as f:
        trace = json.load(f)
    print(sorted(trace)[:5], {'aten::conv2d', 'aten::linear'} <= {e['name'] for e in trace['traceEvents']})
    seen = []

    def trace_handler(p):
        p.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
        seen.append((p.step_num, 'ProfilerStep*' in {e.key for e in p.key_averages()}))
    my_schedule = torch.profiler.schedule(skip_first=1, wait=1, warmup=1, active=2, repeat=1)
    with profile(activities=[ProfilerActivity.CPU], schedule=my_schedule, on_trace_ready=trace_handler) as p:
        for idx in range(6):
            model(inputs[:1])
            p.step()
    print(seen)


def test_profiler_recipe():
    (got, _), (want, _) = _both(_profiler_recipe, vision=True)
    assert got == want


def test_profiler_layer_events_as_pytorch_records_them():
    """Each built-in layer's event: the aten op PyTorch records (ReLU(inplace=True): aten::relu_ alone), with the
    shapes of all its schema's arguments (weights, running stats, [] for the non-tensor ones) and, under
    profile_memory, the bytes its output takes (the layers whose op allocates nothing else: ember does not see
    what PyTorch's kernels keep for backward, as layer_norm's mean and rstd)."""
    def events(T):
        nn = T.nn
        T.manual_seed(0)
        x = T.randn(2, 3, 8, 8)
        layers = [(nn.ReLU(), x), (nn.ReLU(inplace=True), x.clone()), (nn.Conv2d(3, 4, 3), x),
                  (nn.ConvTranspose2d(3, 4, 3), x), (nn.BatchNorm2d(3).eval(), x), (nn.MaxPool2d(2), x),
                  (nn.AvgPool2d(2), x), (nn.Flatten(), x), (nn.Linear(8, 2), x), (nn.Linear(8, 2, bias=False), x),
                  (nn.Dropout(), x), (nn.Sigmoid(), x), (nn.Tanh(), x), (nn.Softmax(1), x), (nn.LogSoftmax(1), x),
                  (nn.LayerNorm(8), x), (nn.GroupNorm(3, 3), x), (nn.GELU(), x), (nn.AdaptiveAvgPool2d(1), x),
                  (nn.Embedding(10, 4), T.tensor([[1, 2]])), (nn.Conv1d(3, 4, 3), x[0, :, 0])]
        out = []
        for m, inp in layers:
            with T.profiler.profile(record_shapes=True, profile_memory=True) as p:
                m(inp)
            only_output = not isinstance(m, (nn.LayerNorm, nn.GroupNorm, nn.MaxPool2d, nn.Dropout))
            out.append([(e.name, e.input_shapes, e.cpu_memory_usage if only_output else None) for e in p.events()
                        if e.cpu_parent is None and e.name != '[memory]'])   # PyTorch's frees, not an op's
        return out
    for g, w in zip(events(ember), events(torch)):
        assert g == w


def _tensorboard_recipe(torch, logdir):
    """recipes/recipes/tensorboard_with_pytorch (a linear fit logging its loss per epoch with add_scalar, flush,
    close) and the SummaryWriter calls of intermediate/tensorboard_tutorial: add_scalars, add_histogram, add_text,
    add_hparams (named and timestamped runs)."""
    SummaryWriter = torch.utils.tensorboard.SummaryWriter
    torch.manual_seed(0)
    writer = SummaryWriter(log_dir=logdir)
    x = torch.arange(-5, 5, 0.1).view(-1, 1)
    y = -5 * x + 0.1 * torch.randn(x.size())
    model = torch.nn.Linear(1, 1)
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def train_model(iter):
        for epoch in range(iter):
            y1 = model(x)
            loss = criterion(y1, y)
            writer.add_scalar("Loss/train", loss, epoch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    train_model(10)
    writer.flush()
    writer.add_scalars('run_14h', {'xsinx': 1.5, 'xcosx': torch.tensor(2.0)}, 3)
    writer.add_histogram('weights', torch.randn(100), 0)
    writer.add_text('note', 'lr 0.1', 0)
    for i in range(2):
        writer.add_hparams({'lr': 0.1 * i, 'bsize': i, 'opt': 'sgd', 'nesterov': True},
                           {'hparam/accuracy': 10 * i, 'hparam/loss': torch.tensor(1.5)},
                           hparam_domain_discrete={'opt': ['sgd', 'adam']}, run_name=f'trial{i}')
    writer.add_hparams({'lr': 0.5}, {'hparam/accuracy': 1.0})
    writer.close()
    print(writer.get_logdir() == logdir)


def _tensorboard_events(logdir):
    """What TensorBoard reads from each run under ``logdir``: scalars, histograms, text and the hparams plugin's
    data (a run named by its start time as '<time>')."""
    from google.protobuf.json_format import MessageToDict
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData
    runs = {}
    for root, _, files in sorted(os.walk(logdir)):
        if not any(f.startswith('events.out.tfevents.') for f in files):
            continue
        name = os.path.relpath(root, logdir)
        if re.fullmatch(r'\d+\.\d+', name):
            name = '<time>'
        ea = EventAccumulator(root, size_guidance={'scalars': 0, 'histograms': 0, 'tensors': 0})
        ea.Reload()
        tags = ea.Tags()
        try:
            hparams = ea.PluginTagToContent('hparams')
        except KeyError:    # a run without the plugin's data
            hparams = {}
        hist = {t: [(e.step, e.histogram_value.min, e.histogram_value.max, e.histogram_value.num,
                     e.histogram_value.sum, list(e.histogram_value.bucket_limit), list(e.histogram_value.bucket))
                    for e in ea.Histograms(t)] for t in tags['histograms']}
        runs[name] = {'scalars': {t: [(e.step, e.value) for e in ea.Scalars(t)] for t in tags['scalars']},
                      'histograms': hist,
                      'tensors': {t: [(e.step, list(e.tensor_proto.string_val)) for e in ea.Tensors(t)]
                                  for t in tags['tensors']},
                      'hparams': {t: MessageToDict(HParamsPluginData.FromString(c)) for t, c in hparams.items()}}
    return runs


def test_tensorboard_recipe():
    import torch.utils.tensorboard  # noqa: F401 (PyTorch's loads on import, as the recipe's from-import does)
    dirs = tempfile.mkdtemp(), tempfile.mkdtemp()
    (got, _), (want, _) = _printed(_tensorboard_recipe, ember, dirs[0]), _printed(_tensorboard_recipe, torch, dirs[1])
    assert got == want
    g, w = _tensorboard_events(dirs[0]), _tensorboard_events(dirs[1])
    assert sorted(g) == sorted(w) == ['.', '<time>', 'run_14h_xcosx', 'run_14h_xsinx', 'trial0', 'trial1']
    for run in w:
        assert g[run]['hparams'] == w[run]['hparams']
        assert g[run]['tensors'] == w[run]['tensors']
        assert sorted(g[run]['scalars']) == sorted(w[run]['scalars'])
        for tag in w[run]['scalars']:
            _close(g[run]['scalars'][tag], w[run]['scalars'][tag], rtol=1e-5)
        assert sorted(g[run]['histograms']) == sorted(w[run]['histograms'])
        for tag in w[run]['histograms']:
            _close(g[run]['histograms'][tag], w[run]['histograms'][tag], rtol=1e-5)


def test_profiler_functional_events_record_pytorch_argument_lists():
    """The functionals of a LeNet-style forward (blitz/neural_networks_tutorial's F.max_pool2d(F.relu(...), (2, 2)))
    and a + b record the shapes of their aten op's whole argument list, [] for the defaults left out."""
    def events(T):
        F = T.nn.functional
        T.manual_seed(0)
        x, w, b, w2 = T.randn(2, 1, 12, 12), T.randn(3, 1, 3, 3), T.randn(3), T.randn(4, 75)
        target, eye = T.tensor([0, 1]), T.eye(4)
        with T.profiler.profile(record_shapes=True) as p:
            y = F.max_pool2d(F.relu(F.conv2d(x, w, b)), (2, 2))
            z = F.linear(y.flatten(1), w2) + 1
            F.cross_entropy(z, target)
            F.softmax(z, dim=1), F.log_softmax(z, 1), F.gelu(z), F.layer_norm(z, (4,)), F.dropout(z, 0.1)
            F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 1), F.nll_loss(z, target), T.flatten(x, 1)
            x.clone(), T.addmm(z, z, eye), z.sub_(z)
        return [(e.name, e.input_shapes) for e in p.events() if e.cpu_parent is None]
    assert events(ember) == events(torch)


def _torchscript_intro(torch):
    """beginner/Intro_to_TorchScript_tutorial without saving: MyCell with a data-dependent MyDecisionGate through
    torch.jit.trace (on the input it was traced with) and torch.jit.script (both branches), a scripted function and
    is_scripting/is_tracing. ember has no TorchScript compiler: it runs the Python as written, which is what
    PyTorch's compiled code computes. Returns (jit, eager) output pairs."""
    import warnings

    class MyDecisionGate(torch.nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            else:
                return -x

    class MyCell(torch.nn.Module):
        def __init__(self, dg):
            super(MyCell, self).__init__()
            self.dg = dg
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x, h):
            new_h = torch.tanh(self.dg(self.linear(x)) + h)
            return new_h, new_h
    torch.manual_seed(0)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    cells = []
    for _ in range(2):
        torch.manual_seed(1)
        cells.append(MyCell(MyDecisionGate()))
    eager, cell = cells
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # PyTorch's TracerWarning; ember's note that it runs the Python
        traced_cell = torch.jit.trace(cell, (x, h))
        scripted_cell = torch.jit.script(cell)

        @torch.jit.script
        def foo(x, y):
            if x.max() > y.max():
                r = x
            else:
                r = y
            return r
    pairs = [(traced_cell(x, h)[0], eager(x, h)[0]), (scripted_cell(x, h)[0], eager(x, h)[0]),
             (scripted_cell(-10 * x, h)[1], eager(-10 * x, h)[1]), (foo(x, h), h if h.max() >= x.max() else x),
             (foo(h + 1, x), h + 1)]
    print(torch.jit.is_scripting(), torch.jit.is_tracing(),
          [e.sum() > 0 for e in (eager.linear(x), eager.linear(-10 * x))])   # both of the gate's branches
    return [(j.detach().numpy(), e.detach().numpy()) for j, e in pairs]


def test_torchscript_intro_without_saving():
    (got, gv), (want, wv) = _both(_torchscript_intro)
    assert got == want
    for (j, e), (tj, te) in zip(gv, wv):
        np.testing.assert_array_equal(j, e)     # ember runs the Python: the jit outputs are the eager ones
        np.testing.assert_allclose(j, tj, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(te, tj, rtol=1e-5, atol=1e-6)
