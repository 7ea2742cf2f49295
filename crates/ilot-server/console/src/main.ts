import { mount } from 'svelte';
import '@ui/styles/app.css';
import './console.css';
import { setupI18n } from './lib/i18n';
import App from './App.svelte';

setupI18n('fr');
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
export default mount(App, { target });
