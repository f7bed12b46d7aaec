import { render } from 'preact';

render(<h1>MOS</h1>, document.getElementById('app')!);
