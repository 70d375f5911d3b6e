import { buildChoicesConfig, choicesResult, parseChoicesConfig } from './labeling-config.js';
import { rprThrown } from '../../../test/helpers/rpr-rejection.js';

describe('buildChoicesConfig / parseChoicesConfig', () => {
  it('round-trips class names in order, including characters XML must escape', () => {
    const names = ['0', 'cat & dog', '<odd>', 'say "hi"', "it's"];
    const xml = buildChoicesConfig(names);
    expect(xml).toContain('value="cat &amp; dog"');
    expect(parseChoicesConfig(xml)).toEqual({ fromName: 'label', toName: 'image', imageField: 'image', choices: names });
  });

  it('reads a config written by hand, with other attribute order and quotes', () => {
    const xml = `<View>
      <Header value="Digit?"/>
      <Image value='$img' zoom="true" name='pic'></Image>
      <Choices toName="pic" name="digit" choice="single-radio">
        <Choice value="zero" alias="0"/><Choice alias="1" value="one"></Choice>
      </Choices>
    </View>`;
    expect(parseChoicesConfig(xml)).toEqual({ fromName: 'digit', toName: 'pic', imageField: 'img', choices: ['zero', 'one'] });
  });

  it('returns null when there is no Choices, or its Image is missing', () => {
    expect(parseChoicesConfig('<View><Image name="image" value="$image"/></View>')).toBeNull();
    expect(
      parseChoicesConfig('<View><Image name="a" value="$image"/><Choices name="c" toName="b"><Choice value="x"/></Choices></View>'),
    ).toBeNull();
  });

  it('refuses empty or repeated class names', () => {
    for (const names of [[], ['a', 'a'], ['a', ' ']]) {
      const caught = rprThrown(() => buildChoicesConfig(names));
      expect(caught.code).toBe('RPR_CONFIG');
    }
  });

  it('builds a single-choice result', () => {
    expect(choicesResult({ fromName: 'label', toName: 'image' }, '7')).toEqual({
      from_name: 'label',
      to_name: 'image',
      type: 'choices',
      value: { choices: ['7'] },
    });
  });
});
