import { useState } from 'preact/hooks';
import { api, call, login } from '../api/client.ts';
import { useI18n } from '../i18n.ts';
import { navigate, query, useLocation } from '../router.ts';
import { Field, Link, PageTitle, ProblemMessage, useAction } from '../ui.tsx';

function afterLogin(search: string, role: string) {
  const next = query(search, 'next');
  navigate(next?.startsWith('/') && !next.startsWith('//') ? next : role === 'SELLER' ? '/seller' : '/', { replace: true });
}

export function LoginPage() {
  const { t } = useI18n();
  const { search } = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const action = useAction(async () => {
    const s = await login(email, password);
    afterLogin(search, s.user.role);
  });
  return (
    <section class="narrow">
      <PageTitle>{t('auth.login')}</PageTitle>
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run();
        }}
      >
        <Field label={t('auth.email')}>
          <input type="email" name="email" autoComplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label={t('auth.password')}>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <ProblemMessage error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>
          {t('auth.login')}
        </button>
        <p>
          {t('auth.noAccount')} <Link href={`/signup${search}`}>{t('nav.signup')}</Link>
        </p>
      </form>
    </section>
  );
}

export function SignupPage() {
  const { t } = useI18n();
  const { search } = useLocation();
  const [form, setForm] = useState({ email: '', password: '', name: '', role: 'BUYER' as 'BUYER' | 'SELLER' });
  const action = useAction(async () => {
    await call(() => api.POST('/v1/auth/signup', { body: form }));
    const s = await login(form.email, form.password);
    afterLogin(search, s.user.role);
  });
  const set = (k: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <section class="narrow">
      <PageTitle>{t('nav.signup')}</PageTitle>
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run();
        }}
      >
        <Field label={t('auth.name')}>
          <input name="name" autoComplete="name" required value={form.name} onInput={set('name')} />
        </Field>
        <Field label={t('auth.email')}>
          <input type="email" name="email" autoComplete="email" required value={form.email} onInput={set('email')} />
        </Field>
        <Field label={t('auth.password')} hint="8–128">
          <input type="password" name="password" autoComplete="new-password" required minLength={8} value={form.password} onInput={set('password')} />
        </Field>
        <fieldset class="choice">
          <legend>{t('auth.role')}</legend>
          {(['BUYER', 'SELLER'] as const).map((r) => (
            <label key={r}>
              <input type="radio" name="role" value={r} checked={form.role === r} onChange={() => setForm({ ...form, role: r })} /> {t(`auth.role.${r}`)}
            </label>
          ))}
        </fieldset>
        <ProblemMessage error={action.error} />
        <button type="submit" class="primary" disabled={action.busy}>
          {t('auth.signup')}
        </button>
        <p>
          {t('auth.haveAccount')} <Link href={`/login${search}`}>{t('nav.login')}</Link>
        </p>
      </form>
    </section>
  );
}
